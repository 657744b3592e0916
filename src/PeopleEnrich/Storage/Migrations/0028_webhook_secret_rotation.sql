-- A rotated webhook secret is kept beside the new one for Webhooks:RotationOverlap, so calls carry both signatures
-- while the receiver switches (the Standard Webhooks header holds several, separated by spaces).
ALTER TABLE account_webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE account_webhooks ADD COLUMN rotated_at BIGINT;

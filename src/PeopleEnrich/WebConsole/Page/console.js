// The PeopleEnrich web console: a client of the HTTP API on this origin, in plain JavaScript.
// The key is kept in sessionStorage only and sent only in the Authorization header; every piece of
// data from a file or an answer reaches the page as text (textContent), never as markup.
"use strict";

const KEY_ITEM = "peopleenrich.key";
const UPLOAD_ITEM = "peopleenrich.upload";
const PAGE_SIZE = 100;
const FIELDS = [
  { name: "first_name", label: "First name", required: true },
  { name: "last_name", label: "Last name", required: true },
  { name: "domain", label: "Company domain or website", required: true },
  { name: "company", label: "Company name", required: false },
  { name: "linkedin", label: "LinkedIn profile", required: false },
];

const state = { key: null, file: null, preview: null, previewsAsked: 0, columns: null, uploadId: null, upload: null, offset: 0, polling: null, starting: false };

const $ = (id) => document.getElementById(id);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(status) {
  return el("span", { class: "badge " + String(status).replace(/[^A-Z_]/g, "") }, status);
}

function say(id, text, isError) {
  const node = $(id);
  node.textContent = text || "";
  node.classList.toggle("error", !!isError);
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Authorization", state.key);
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try {
      const problem = await response.json();
      message = problem.detail || message;
      if (Array.isArray(problem.errors) && problem.errors.length) {
        message += " " + problem.errors.map((e) => e.message).join("; ");
      }
    } catch { /* not a problem document */ }
    throw new ApiError(response.status, message);
  }
  return response;
}

const json = async (path, options) => (await api(path, options)).json();

function number(n) { return Number(n).toLocaleString("en-US"); }

// --- 1. The key -----------------------------------------------------------------------------

async function useKey(key) {
  state.key = key.trim();
  say("key-message", "Checking the key…");
  try {
    await refreshCredits();
  } catch (error) {
    state.key = null;
    sessionStorage.removeItem(KEY_ITEM);
    say("key-message", error.status === 401 ? "This key was not accepted. Check it and try again." : "Could not reach the server: " + error.message, true);
    return;
  }
  sessionStorage.setItem(KEY_ITEM, state.key);
  $("api-key").value = "";
  $("api-key").placeholder = "key in use (…" + state.key.slice(-4) + ")";
  say("key-message", "Key accepted.");
  $("forget-key").hidden = false;
  $("upload-section").hidden = false;
  $("requests-section").hidden = false;
  await refreshRequests();
  const upload = sessionStorage.getItem(UPLOAD_ITEM);
  if (upload) await follow(upload);
}

function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
  sessionStorage.removeItem(UPLOAD_ITEM);
  location.reload();
}

async function refreshCredits() {
  const body = await json("/api/v2/credits");
  const line = (body.credits || [])[0];
  state.remaining = line ? line.remaining_credits : 0;
  $("credits").textContent = line ? `Credits left: ${number(line.remaining_credits)} of ${number(line.total_credits)}` : "";
}

// --- 2. The file: preview, columns, fields, cost --------------------------------------------

function fieldsParameter() {
  const fields = [];
  if ($("want-emails").checked) fields.push("emails");
  if ($("want-phones").checked) fields.push("phones");
  return fields.join(",");
}

function query() {
  const parameters = new URLSearchParams({ name: state.file.name });
  const fields = fieldsParameter();
  if (fields) parameters.set("fields", fields);
  if (state.columns) {
    for (const field of FIELDS) parameters.set(field.name, (state.columns[field.name] || []).join(","));
  }
  return parameters.toString();
}

async function choose(file) {
  if (!file) return;
  state.file = file;
  state.columns = null;
  await preview();
}

async function preview() {
  if (!fieldsParameter()) {
    state.previewsAsked++; // an answer still on its way is to a choice of fields no longer made
    say("upload-message", "Tick emails, phones or both.", true);
    $("start").disabled = true;
    return;
  }
  say("upload-message", "Reading " + state.file.name + "…");
  // Two quick changes of the mapping send two previews, whose answers may come back in either order: only the answer
  // to the latest question is shown, or the page would describe a mapping that is no longer chosen.
  const asked = ++state.previewsAsked;
  // Until its answer comes, the cost shown is the last mapping's: nothing is started on it.
  $("start").disabled = true;
  let answer;
  try {
    answer = await json("/api/v2/people/csv/preview?" + query(), {
      method: "POST", headers: { "Content-Type": "text/csv" }, body: state.file,
    });
  } catch (error) {
    if (asked !== state.previewsAsked) return;
    $("preview").hidden = true;
    say("upload-message", error.message, true);
    return;
  }
  if (asked !== state.previewsAsked) return;
  state.preview = answer;
  state.columns = state.preview.columns;
  say("upload-message", "");
  renderPreview(state.preview);
}

function renderPreview(p) {
  // Another file, mapping or choice of fields is another upload; the same one sent again (a reply lost) is not.
  state.idempotencyKey = null;
  const delimiter = { ",": "comma", ";": "semicolon", "\t": "tab" }[p.delimiter] || p.delimiter;
  $("file-summary").textContent = `${p.file_name}: ${number(p.row_count)} rows, ${delimiter}-separated. ` +
    `${number(p.sendable_count)} can be sent, ${number(p.skipped_count)} cannot.`;

  const mapping = $("mapping");
  mapping.replaceChildren();
  for (const field of FIELDS) {
    const id = "column-" + field.name;
    const select = el("select", { id, "data-field": field.name });
    select.append(el("option", { value: "" }, "(none)"));
    p.headers.forEach((header, i) => select.append(el("option", { value: String(i) }, header || `(column ${i + 1})`)));
    const chosen = (p.columns[field.name] || [])[0];
    select.value = chosen === undefined ? "" : String(chosen);
    select.addEventListener("change", () => {
      state.columns = { ...state.columns, [field.name]: select.value === "" ? [] : [Number(select.value)] };
      preview();
    });
    const example = chosen === undefined ? "" : (p.sample.map((row) => row[chosen]).find((v) => v && v.trim()) || "");
    const missing = field.required && chosen === undefined;
    mapping.append(el("div", {},
      el("label", { for: id }, field.label + (field.required ? " (required)" : "")),
      select,
      el("span", { class: missing ? "example required" : "example", "aria-live": "polite" },
        missing ? "Choose the column that holds it." : example ? "e.g. " + example : "")));
  }

  const skipped = $("skipped-details");
  skipped.hidden = p.skipped_count === 0;
  $("skipped-summary").textContent = `${number(p.skipped_count)} rows cannot be sent (why)`;
  $("skipped-list").replaceChildren(...p.skipped.map((s) => el("li", {}, `Row ${s.row}: ${s.reason}`)));
  if (p.skipped_count > p.skipped.length) $("skipped-list").append(el("li", {}, `…and ${number(p.skipped_count - p.skipped.length)} more`));

  const fits = p.max_credits <= p.remaining_credits;
  $("cost").textContent = `At most ${number(p.max_credits)} credits for ${number(p.sendable_count)} rows ` +
    `(you have ${number(p.remaining_credits)}; only what is found is charged).` + (fits ? "" : " Not enough credits for this file.");
  const start = $("start");
  start.disabled = p.missing_columns.length > 0 || p.sendable_count === 0 || !fits;
  start.textContent = `Start: enrich ${number(p.sendable_count)} rows`;
  $("preview").hidden = false;
}

function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function start() {
  if (state.starting) return;
  state.starting = true;
  const button = $("start");
  button.disabled = true;
  say("upload-message", "Sending…");
  try {
    const upload = await json("/api/v2/people/csv/enrich?" + query(), {
      method: "POST", headers: { "Content-Type": "text/csv", "Idempotency-Key": (state.idempotencyKey ??= idempotencyKey()) }, body: state.file,
    });
    state.idempotencyKey = null;
    const requests = upload.request_ids.length;
    say("upload-message", `Started: ${number(upload.item_count)} rows in ${requests} ${requests === 1 ? "request" : "requests"} of up to 100.`);
    $("preview").hidden = true;
    await follow(upload.upload_id);
  } catch (error) {
    say("upload-message", error.message, true);
    button.disabled = false;
  } finally {
    state.starting = false;
  }
}

// --- 3. Progress ----------------------------------------------------------------------------

async function follow(uploadId) {
  state.uploadId = uploadId;
  state.offset = 0;
  sessionStorage.setItem(UPLOAD_ITEM, uploadId);
  $("progress-section").hidden = false;
  clearTimeout(state.polling);
  await poll();
}

async function poll() {
  let upload;
  try {
    upload = await json(`/api/v2/people/csv/${encodeURIComponent(state.uploadId)}`);
  } catch (error) {
    if (error.status === 404) {
      sessionStorage.removeItem(UPLOAD_ITEM);
      $("progress-section").hidden = true;
      return;
    }
    $("progress-text").textContent = "Could not read the progress (" + error.message + "); trying again.";
    state.polling = setTimeout(poll, 3000);
    return;
  }
  state.upload = upload;
  const progress = $("progress");
  progress.max = Math.max(1, upload.item_count);
  progress.value = upload.done_count;
  const percent = Math.floor((100 * upload.done_count) / Math.max(1, upload.item_count));
  $("progress-text").textContent = `${upload.file_name}: ${number(upload.done_count)} of ${number(upload.item_count)} rows done (${percent}%)` +
    (upload.skipped_count ? `, ${number(upload.skipped_count)} skipped` : "") + (upload.status === "COMPLETED" ? ". Finished." : "…");
  await Promise.all([refreshRequests(), showRows()]);
  if (upload.status === "PROCESSING") {
    state.polling = setTimeout(poll, 1000);
  } else {
    await refreshCredits();
  }
}

// --- 4. Results -----------------------------------------------------------------------------

function describe(evidence) {
  const when = evidence.observed_at ? " (" + new Date(evidence.observed_at).toLocaleString() + ")" : "";
  switch (evidence.source) {
    case "smtp":
      return [`Mail server ${evidence.mx_host} answered “${evidence.reply}”` + (evidence.catch_all ? "; the domain accepts any address" : "") + when];
    case "website": {
      const safe = /^https?:\/\//i.test(evidence.url || "");
      return ["Seen on ", safe ? el("a", { href: evidence.url, rel: "noopener noreferrer nofollow", target: "_blank" }, evidence.url) : evidence.url, when];
    }
    case "directory":
      return [`In the directory: ${evidence.file}, line ${evidence.line}` + when];
    case "upstream":
      return [`Provider ${evidence.provider} said ${evidence.status}` + when];
    case "pattern":
      return [`The domain's address pattern ${evidence.pattern}` + (evidence.supporting && evidence.supporting.length ? ", seen in " + evidence.supporting.join(", ") : "") + when];
    default:
      return [evidence.source + when];
  }
}

function why(items, key) {
  if (!items.length) return null;
  return el("details", {},
    el("summary", {}, "Why we believe it"),
    el("ul", {}, items.map((item) => el("li", {},
      el("span", { class: "email" }, item[key]), " ", item.status ? badge(item.status) : item.region || "",
      item.evidence.length
        ? el("ul", {}, item.evidence.map((e) => el("li", {}, describe(e))))
        : el("ul", {}, el("li", {}, "No evidence kept for this answer."))))));
}

function resultRow(row) {
  const best = row.emails.find((e) => row.most_probable_email && e.email.toLowerCase() === row.most_probable_email.toLowerCase());
  const person = [row.firstname, row.lastname].filter(Boolean).join(" ");
  return el("tr", { "data-row": row.row },
    el("td", { "data-label": "Row" }, row.row),
    el("td", { "data-label": "Person" }, person || "—", el("br"), el("small", {}, [row.company_name, row.domain].filter(Boolean).join(" · "))),
    el("td", { "data-label": "Email" },
      row.most_probable_email ? [el("span", { class: "email" }, row.most_probable_email), " ", badge(best ? best.status : "UNKNOWN")] : "—",
      why(row.emails, "email")),
    el("td", { "data-label": "Phones" }, row.phones.length ? row.phones.map((p) => p.number).join(", ") : "—", why(row.phones, "number")),
    el("td", { "data-label": "Status" }, badge(row.status), row.error ? el("div", { class: "hint" }, row.error) : null));
}

async function showRows() {
  const page = await json(`/api/v2/people/csv/${encodeURIComponent(state.uploadId)}/rows?offset=${state.offset}&limit=${PAGE_SIZE}`);
  $("results-section").hidden = false;
  $("results").tBodies[0].replaceChildren(...page.rows.map(resultRow));
  const last = Math.min(page.offset + PAGE_SIZE, page.row_count);
  $("pager").hidden = page.row_count <= PAGE_SIZE;
  $("page-text").textContent = `Rows ${number(page.offset + 1)} to ${number(last)} of ${number(page.row_count)}`;
  $("previous-page").disabled = page.offset === 0;
  $("next-page").disabled = last >= page.row_count;
  const done = state.upload && state.upload.status === "COMPLETED";
  $("download").disabled = !done;
  $("results-note").textContent = done ? "Every row of your file, in order, with the answers added." : "Available when every row is done.";
}

async function turnPage(step) {
  state.offset = Math.max(0, state.offset + step * PAGE_SIZE);
  await showRows();
}

async function download() {
  const response = await api(`/api/v2/people/csv/${encodeURIComponent(state.uploadId)}/enriched`);
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: named ? decodeURIComponent(named[1]) : "enriched.csv" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// --- Recent requests ------------------------------------------------------------------------

async function refreshRequests() {
  let body;
  try {
    body = await json("/api/v2/people/enrich?limit=10");
  } catch {
    return;
  }
  const rows = body.requests.map((r) => el("tr", { "data-request": r.request_id },
    el("td", {}, el("code", { title: r.request_id }, r.request_id.slice(0, 8) + "…" + r.request_id.slice(-4))),
    el("td", {}, new Date(r.created_at).toLocaleString()),
    el("td", {}, badge(r.status)),
    el("td", {},
      el("progress", { max: Math.max(1, r.item_count), value: r.done_count, "aria-label": `Request ${r.request_id.slice(0, 8)}: ${r.done_count} of ${r.item_count} done` }),
      ` ${number(r.done_count)}/${number(r.item_count)}`)));
  $("requests").tBodies[0].replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 4 }, "No requests yet."))]));
}

// --- Wiring ---------------------------------------------------------------------------------

function wire() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value;
    if (key.trim()) useKey(key);
  });
  $("forget-key").addEventListener("click", forgetKey);
  $("csv-file").addEventListener("change", (event) => choose(event.target.files[0]));
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files[0]);
  });
  $("want-emails").addEventListener("change", preview);
  $("want-phones").addEventListener("change", preview);
  $("start").addEventListener("click", start);
  $("download").addEventListener("click", () => download().catch((error) => say("upload-message", error.message, true)));
  $("previous-page").addEventListener("click", () => turnPage(-1));
  $("next-page").addEventListener("click", () => turnPage(1));
  $("refresh-requests").addEventListener("click", refreshRequests);

  const saved = sessionStorage.getItem(KEY_ITEM);
  if (saved) useKey(saved);
}

wire();

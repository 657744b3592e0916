using System.IO.Pipelines;
using System.Text;

namespace PeopleEnrich.MailWorld;

/// <summary>
/// A body of any length that looks like an HTML page (a head, then paragraphs, then the closing tags when they fit),
/// written in fixed chunks as the connection takes them, so that a 50 MiB page costs the world one chunk of memory.
/// </summary>
internal static class FillerBody
{
    private const int ChunkSize = 16 * 1024;
    private static readonly byte[] Head = Encoding.ASCII.GetBytes("<!doctype html>\n<html><head><title>A very long page</title></head><body>\n");
    private static readonly byte[] Tail = Encoding.ASCII.GetBytes("</body></html>\n");
    private static readonly byte[] Paragraphs = BuildParagraphs();

    /// <summary>
    /// Writes <paramref name="length"/> bytes, reporting each chunk handed to the connection while the client was there, and
    /// stops as soon as <paramref name="peerGone"/> says it hung up: Kestrel then completes writes at once without
    /// sending them (and says so only later, through its aborted token), and those must not count as sent.
    /// </summary>
    public static async Task WriteAsync(PipeWriter body, long length, Action<int> written, Func<bool> peerGone, CancellationToken cancellationToken)
    {
        var tailAt = length >= Head.Length + Tail.Length ? length - Tail.Length : length;
        for (long position = 0; position < length;)
        {
            if (cancellationToken.IsCancellationRequested || peerGone()) return;
            var chunk = Chunk(position, tailAt, length);
            // Counted when handed over: the write may end in an abort after the bytes already went out.
            written(chunk.Length);
            var result = await body.WriteAsync(chunk, cancellationToken);
            if (result.IsCompleted || result.IsCanceled) return;
            position += chunk.Length;
        }
    }

    /// <summary>The bytes starting at <paramref name="position"/>: from the head, the paragraphs or the tail, never across two.</summary>
    private static ReadOnlyMemory<byte> Chunk(long position, long tailAt, long length)
    {
        if (position >= tailAt) return Tail.AsMemory((int)(position - tailAt), (int)(length - position));
        if (position < Head.Length) return Head.AsMemory((int)position, (int)Math.Min(Head.Length - position, tailAt - position));
        var offset = (int)((position - Head.Length) % ChunkSize);
        return Paragraphs.AsMemory(offset, (int)Math.Min(ChunkSize - offset, tailAt - position));
    }

    private static byte[] BuildParagraphs()
    {
        const string paragraph = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n";
        var text = new StringBuilder(ChunkSize + paragraph.Length);
        while (text.Length < ChunkSize) text.Append(paragraph);
        return Encoding.ASCII.GetBytes(text.ToString(0, ChunkSize));
    }
}

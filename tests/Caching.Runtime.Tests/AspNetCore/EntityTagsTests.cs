using System.Text;
using Caching.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Xunit;

namespace Caching.Runtime.Tests.AspNetCore;

public sealed class EntityTagsTests
{
    [Fact]
    public void A_tag_is_quoted_url_safe_and_the_same_for_the_same_bytes_only()
    {
        var random = new Random(7);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 2000; i++)
        {
            byte[] body = new byte[random.Next(0, 3000)];
            random.NextBytes(body);
            string tag = EntityTags.FromBody(body);

            Assert.Matches("^\"[A-Za-z0-9_-]{22}\"$", tag);
            Assert.Equal(tag, EntityTags.FromBody(body.ToArray()));
            if (body.Length > 0)
            {
                Assert.True(seen.Add(tag), $"collision at {i}");
                body[random.Next(body.Length)] ^= 1;
                Assert.NotEqual(tag, EntityTags.FromBody(body));
            }
        }
    }

    [Theory]
    [InlineData("\"t\"", "\"t\"", true)]
    [InlineData("W/\"t\"", "\"t\"", true)]
    [InlineData("\"t\"", "W/\"t\"", true)]
    [InlineData("*", "\"t\"", true)]
    [InlineData("  \"x\" ,\t\"t\"", "\"t\"", true)]
    [InlineData("\"x,\"t\"", "\"t\"", false)]
    [InlineData("\"a,b\", \"t\"", "\"t\"", true)]
    [InlineData("\"a,b\"", "\"a,b\"", true)]
    [InlineData("\"T\"", "\"t\"", false)]
    [InlineData("\"tt\"", "\"t\"", false)]
    [InlineData("t", "\"t\"", false)]
    [InlineData("\"t", "\"t\"", false)]
    [InlineData("w/\"t\"", "\"t\"", false)]
    [InlineData("", "\"t\"", false)]
    [InlineData(",,,", "\"t\"", false)]
    [InlineData("\"t\"", "t", false)]
    [InlineData("\"t\"", "", false)]
    public void If_None_Match_uses_the_weak_comparison_over_a_list(string header, string tag, bool matches)
        => Assert.Equal(matches, EntityTags.NoneMatch(new StringValues(header), tag));

    [Fact]
    public void Every_line_of_a_repeated_If_None_Match_is_read()
        => Assert.True(EntityTags.NoneMatch(new StringValues(["\"a\"", "\"b\", \"t\""]), "\"t\""));

    [Theory]
    [InlineData("GET", true)]
    [InlineData("HEAD", true)]
    [InlineData("POST", false)]
    [InlineData("PUT", false)]
    public void Only_GET_and_HEAD_are_answered_not_modified(string method, bool notModified)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Headers.IfNoneMatch = "\"t\"";

        Assert.Equal(notModified, StoredResponse.IsNotModified(http.Request, "\"t\""));
    }

    [Fact]
    public void An_envelope_keeps_the_tag_and_time_and_a_plain_entry_is_tagged_by_its_bytes()
    {
        byte[] small = Encoding.UTF8.GetBytes("{\"id\":1}");
        byte[] large = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("{\"id\":1}", 200)) + "]");
        var at = new DateTimeOffset(2026, 12, 5, 8, 0, 0, 123, TimeSpan.Zero);

        byte[] plain = StoredResponse.Encode(200, "application/json; charset=utf-8", [], small, "application/json; charset=utf-8", at, 0, out string smallTag)!;
        byte[] envelope = StoredResponse.Encode(200, "application/json; charset=utf-8", [], large, "application/json; charset=utf-8", at, 0, out string largeTag)!;
        byte[] own = StoredResponse.Encode(200, "application/json; charset=utf-8", [new("ETag", "\"v9\""), new("X-A", "1")], small, "application/json; charset=utf-8", at, 0, out string ownTag)!;

        Assert.Equal(small, plain);
        Assert.Equal(EntityTags.FromBody(small), smallTag);
        Assert.Equal(smallTag, StoredResponse.Read(plain, "application/json; charset=utf-8").EntityTag);
        Assert.Null(StoredResponse.Read(plain, "application/json; charset=utf-8").StoredAt);

        StoredResponse read = StoredResponse.Read(envelope, "application/json; charset=utf-8");
        Assert.Equal(EntityTags.FromBody(large), largeTag);
        Assert.Equal(largeTag, read.EntityTag);
        Assert.Equal(at, read.StoredAt);
        Assert.Equal(large, read.Body.ToArray());
        Assert.Equal(large, StoredResponse.BodyOf(envelope).ToArray());

        StoredResponse withOwn = StoredResponse.Read(own, "application/json; charset=utf-8");
        Assert.Equal("\"v9\"", ownTag);
        Assert.Equal("\"v9\"", withOwn.EntityTag);
        Assert.Equal([new KeyValuePair<string, string>("X-A", "1")], withOwn.Headers);
    }

    [Fact]
    public void The_gzip_and_identity_forms_of_a_compressed_body_are_derived_once_and_decode_to_the_body()
    {
        byte[] body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 800).Select(i => $"{{\"id\":{i},\"title\":\"post {i % 7}\"}},")));
        byte[] compressed = StoredCompression.TryCompress(body)!;

        byte[] gzip = StoredCompression.GzipShared(compressed, body.Length);
        byte[] identity = StoredCompression.DecompressShared(compressed, body.Length);

        Assert.Same(gzip, StoredCompression.GzipShared(compressed, body.Length));
        Assert.Same(identity, StoredCompression.DecompressShared(compressed, body.Length));
        Assert.Equal(body, identity);
        using var decoder = new System.IO.Compression.GZipStream(new MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress);
        using var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        Assert.Equal(body, decoded.ToArray());
        Assert.True(gzip.Length * 3 < body.Length, $"{gzip.Length} for {body.Length}");
    }

    [Theory]
    [InlineData(null, "Identity")]
    [InlineData("", "Identity")]
    [InlineData("br", "Brotli")]
    [InlineData("gzip, br", "Brotli")]
    [InlineData("gzip", "Gzip")]
    [InlineData("gzip;q=0.9, br;q=0.8", "Gzip")]
    [InlineData("gzip;q=0.8, br;q=0.8", "Brotli")]
    [InlineData("*", "Brotli")]
    [InlineData("br;q=0, *", "Gzip")]
    [InlineData("*;q=0.5, gzip", "Gzip")]
    [InlineData("br;q=0, gzip;q=0, *", "Identity")]
    [InlineData("gzip;q=bad", "Identity")]
    [InlineData("deflate, identity", "Identity")]
    public void Accept_Encoding_chooses_the_form(string? header, string expected)
    {
        Assert.Equal(expected, StoredCompression.Choose(header is null ? StringValues.Empty : new StringValues(header)).ToString());
    }
}

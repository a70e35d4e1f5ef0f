using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Caching.Generator.Model
{
    /// <summary>A source location as plain values (no SyntaxTree), so models stay cacheable.</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public static LocationInfo? From(Location? location)
        {
            if (location is null || location.SourceTree is null)
            {
                return null;
            }

            return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
        }

        public static LocationInfo From(SyntaxTree tree, TextSpan span)
            => new(tree.FilePath, span, tree.GetLineSpan(span).Span);

        /// <summary>"Program.cs(12,5)", for comments in generated code.</summary>
        public string Display => System.IO.Path.GetFileName(FilePath) + "(" + (LineSpan.Start.Line + 1) + "," + (LineSpan.Start.Character + 1) + ")";
    }
}

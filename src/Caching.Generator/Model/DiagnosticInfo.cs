using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Model
{
    /// <summary>One named value a code fix reads from a diagnostic (<see cref="Diagnostic.Properties"/>).</summary>
    internal sealed record DiagnosticProperty(string Key, string Value);

    /// <summary>A diagnostic as plain values: descriptor id, location, message arguments and code-fix properties.</summary>
    internal sealed record DiagnosticInfo(string DescriptorId, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        /// <summary>Values a code fix needs that the message only shows as text (a suggested name, candidates).</summary>
        public EquatableArray<DiagnosticProperty> Properties { get; init; } = EquatableArray<DiagnosticProperty>.Empty;

        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
            => new(descriptor.Id, location, arguments.ToEquatableArray());

        /// <summary>This diagnostic with one more property for code fixes.</summary>
        public DiagnosticInfo With(string key, string value)
            => this with { Properties = Properties.Items.Add(new DiagnosticProperty(key, value)).ToEquatableArray() };

        /// <summary>
        /// The diagnostic on the compilation's own syntax tree (found by file path), so #pragma, [SuppressMessage],
        /// .editorconfig and NoWarn apply to it. A location in no tree of the compilation falls back to a file location.
        /// </summary>
        public Diagnostic ToDiagnostic(Func<string, SyntaxTree?> treeByPath)
        {
            DiagnosticDescriptor descriptor = Diagnostics.DiagnosticDescriptors.ById(DescriptorId);
            Location? location = null;
            if (Location is not null)
            {
                SyntaxTree? tree = treeByPath(Location.FilePath);
                location = tree is not null && Location.Span.End <= tree.Length
                    ? Microsoft.CodeAnalysis.Location.Create(tree, Location.Span)
                    : Location.ToLocation();
            }

            ImmutableDictionary<string, string?>? properties = Properties.Count == 0
                ? null
                : Properties.ToImmutableDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal);
            return Diagnostic.Create(descriptor, location, properties, Arguments.Cast<object>().ToArray());
        }
    }
}

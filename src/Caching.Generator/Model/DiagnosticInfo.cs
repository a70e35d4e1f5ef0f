using System;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Model
{
    /// <summary>A diagnostic as plain values: descriptor id, location and message arguments.</summary>
    internal sealed record DiagnosticInfo(string DescriptorId, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
            => new(descriptor.Id, location, arguments.ToEquatableArray());

        public Diagnostic ToDiagnostic()
        {
            DiagnosticDescriptor descriptor = Diagnostics.DiagnosticDescriptors.ById(DescriptorId);
            return Diagnostic.Create(descriptor, Location?.ToLocation(), Arguments.Cast<object>().ToArray());
        }
    }
}

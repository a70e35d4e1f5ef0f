using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Caching.Generator.Tests;

/// <summary>
/// Checks every generator run in the tests is incremental, in the manner of NetEscapades.EnumGenerators' test
/// helpers: the same driver re-run on a clone of the compilation must produce equal outputs from cache at every
/// tracked step, and no step may hold a symbol, syntax node or compilation (they would pin old compilations in
/// memory and defeat the cache).
/// </summary>
public static class IncrementalChecks
{
    /// <summary>Every tracking name in <see cref="CacheGenerator.Steps"/>.</summary>
    public static IReadOnlyList<string> TrackingNames { get; } = typeof(CacheGenerator.Steps)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    /// <summary>Re-runs <paramref name="driver"/> (which already ran on <paramref name="compilation"/>) on a clone and compares.</summary>
    public static void AssertCachedOnRerun(GeneratorDriver driver, Compilation compilation)
    {
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        GeneratorRunResult second = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();

        foreach (string name in TrackingNames)
        {
            ImmutableArray<IncrementalGeneratorRunStep> before = first.TrackedSteps.TryGetValue(name, out var b) ? b : [];
            ImmutableArray<IncrementalGeneratorRunStep> after = second.TrackedSteps.TryGetValue(name, out var a) ? a : [];
            Assert.True(before.Length == after.Length, $"step {name} ran {before.Length} times, then {after.Length} times");
            for (int i = 0; i < before.Length; i++)
            {
                object?[] values = before[i].Outputs.Select(o => o.Value).ToArray();
                object?[] again = after[i].Outputs.Select(o => o.Value).ToArray();
                Assert.True(values.SequenceEqual(again), $"step {name} produced different values on an identical re-run");
                Assert.All(after[i].Outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} output was {o.Reason} on an identical re-run"));
                foreach (object? value in values)
                {
                    AssertHoldsNoCompilerObjects(value, name);
                }
            }
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    /// <summary>Walks the object graph of a step's value; fails on an ISymbol, a SyntaxNode or a Compilation.</summary>
    public static void AssertHoldsNoCompilerObjects(object? value, string step)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Visit(value, step, seen);
    }

    private static void Visit(object? value, string path, HashSet<object> seen)
    {
        if (value is null)
        {
            return;
        }

        Type type = value.GetType();
        Assert.False(value is Compilation or ISymbol or SyntaxNode or SemanticModel or SyntaxTree, $"{path} holds a {type.Name}");
        if (type.IsPrimitive || type.IsEnum || value is string || type == typeof(decimal) || type.IsPointer)
        {
            return;
        }

        if (!type.IsValueType && !seen.Add(value))
        {
            return;
        }

        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                Visit(item, $"{path}[{i++}]", seen);
            }
        }

        for (Type? current = type; current is not null && current != typeof(object); current = current.BaseType)
        {
            foreach (FieldInfo field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer)
                {
                    continue;
                }

                Visit(field.GetValue(value), path + "." + field.Name, seen);
            }
        }
    }
}

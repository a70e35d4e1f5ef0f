using System.Globalization;
using System.Reflection;
using Caching.Keys;

namespace Caching.Runtime.Tests.Keys;

/// <summary>The README's table of key formats, row by row, against the code: it cannot drift.</summary>
public sealed class ReadmeKeyFormatTests
{
    private static readonly Dictionary<string, Type> Types = new(StringComparer.Ordinal)
    {
        ["string"] = typeof(string),
        ["char"] = typeof(char),
        ["bool"] = typeof(bool),
        ["sbyte"] = typeof(sbyte),
        ["byte"] = typeof(byte),
        ["short"] = typeof(short),
        ["ushort"] = typeof(ushort),
        ["int"] = typeof(int),
        ["uint"] = typeof(uint),
        ["long"] = typeof(long),
        ["ulong"] = typeof(ulong),
        ["float"] = typeof(float),
        ["double"] = typeof(double),
        ["decimal"] = typeof(decimal),
        ["Guid"] = typeof(Guid),
        ["enum"] = typeof(RequestKeyTests.Color),
        ["DateTime"] = typeof(DateTime),
        ["DateTimeOffset"] = typeof(DateTimeOffset),
        ["DateOnly"] = typeof(DateOnly),
        ["TimeOnly"] = typeof(TimeOnly),
        ["TimeSpan"] = typeof(TimeSpan),
    };

    public static TheoryData<string, string, string, string> Rows()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach ((string type, string format, string text, string key) in ReadTable())
        {
            data.Add(type, format, text, key);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_row_is_what_the_code_writes(string type, string format, string text, string key)
    {
        Type clr = Types.TryGetValue(type, out Type? known) ? known : throw new InvalidOperationException($"README row for unknown type '{type}'");
        MethodInfo check = typeof(ReadmeKeyFormatTests).GetMethod(nameof(Check), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(clr);
        try
        {
            check.Invoke(null, [type, format, text, key]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
    }

    [Fact]
    public void The_table_lists_every_type_the_hit_path_parses_and_no_other()
    {
        var parsed = typeof(RequestText).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name == nameof(RequestText.TryParse))
            .Select(m => m.GetParameters()[1].ParameterType.GetElementType()!)
            .Append(typeof(string))
            .Append(typeof(RequestKeyTests.Color)) // TryParseEnum
            .OrderBy(t => t.Name)
            .ToArray();
        Type[] listed = ReadTable().Select(r => Types[r.Type]).Distinct().OrderBy(t => t.Name).ToArray();

        Assert.Equal(parsed, listed);
    }

    private static void Check<T>(string type, string format, string text, string key)
    {
        // The hit path: the request text parsed as the binder parses it, then written into the key.
        T value = Parse<T>(text) ?? throw new Xunit.Sdk.XunitException($"README row {type}: request text \"{text}\" does not parse");
        Assert.Equal(key, CacheKey.EncodeValue(value));
        Assert.Equal("k:" + key, CacheKey.Create<T?>("k", value));

        // The Format column, when it is a .NET format string, is the format the code uses.
        string? dotnetFormat = format.Split(' ')[0] is { Length: > 0 } first && first[0] is 'G' or 'R' or 'D' or 'O' or 'c' or 'y' or 'H' ? first : null;
        if (dotnetFormat is not null && value is IFormattable formattable)
        {
            Assert.Equal(key, KeyEncoding.Encode(formattable.ToString(dotnetFormat, CultureInfo.InvariantCulture)));
        }
    }

    private static T? Parse<T>(string text)
    {
        if (typeof(T) == typeof(string))
        {
            return (T)(object)text;
        }

        if (typeof(T).IsEnum)
        {
            return RequestText.TryParseEnum(text, out RequestKeyTests.Color color) ? (T)(object)color : default;
        }

        MethodInfo parse = typeof(RequestText).GetMethod(nameof(RequestText.TryParse), [typeof(string), typeof(T).MakeByRefType()])!;
        object?[] arguments = [text, null];
        return (bool)parse.Invoke(null, arguments)! ? (T)arguments[1]! : default;
    }

    private static List<(string Type, string Format, string Text, string Key)> ReadTable()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string[] lines = readme.Split('\n').Select(l => l.Trim()).ToArray();
        int header = Array.FindIndex(lines, l => l.StartsWith("| Type | Format | Request text | Key |", StringComparison.Ordinal));
        Assert.True(header >= 0, "README.md has no table of key formats");
        var rows = new List<(string, string, string, string)>();
        for (int i = header + 2; i < lines.Length && lines[i].StartsWith('|'); i++)
        {
            string[] cells = lines[i].Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.Equal(4, cells.Length);
            string format = Unquote(cells[1]);
            string text = Unquote(cells[2]);
            string key = Unquote(cells[3]);
            foreach (string type in cells[0].Split('`', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                rows.Add((type, format, text, key));
            }
        }

        return rows;
    }

    private static string Unquote(string cell)
    {
        int start = cell.IndexOf('`');
        int end = start < 0 ? -1 : cell.IndexOf('`', start + 1);
        return end < 0 ? cell : cell.Substring(start + 1, end - start - 1);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Caching.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Caching.sln not found");
    }
}

using System.Text;

namespace Caching.Generator.Parsing
{
    /// <summary>
    /// The runtime's value encoding (Caching.Keys.KeyEncoding), for constants the generator folds into keys:
    /// ASCII letters, digits, '-' and '.' stay; every other character becomes %XX per UTF-8 byte.
    /// </summary>
    internal static class KeyEncoder
    {
        public static string Encode(string value)
        {
            var result = new StringBuilder(value.Length);
            foreach (char c in value)
            {
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')
                {
                    result.Append(c);
                }
            }

            if (result.Length == value.Length)
            {
                return value;
            }

            result.Clear();
            var bytes = new System.Collections.Generic.List<byte>();
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                bool pair = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
                if (char.IsSurrogate(c) && !pair)
                {
                    // Lone surrogate: its WTF-8 bytes, as the runtime writes them.
                    bytes.Add((byte)(0xE0 | (c >> 12)));
                    bytes.Add((byte)(0x80 | ((c >> 6) & 0x3F)));
                    bytes.Add((byte)(0x80 | (c & 0x3F)));
                    continue;
                }

                bytes.AddRange(Encoding.UTF8.GetBytes(value.Substring(i, pair ? 2 : 1)));
                i += pair ? 1 : 0;
            }

            foreach (byte b in bytes)
            {
                char c = (char)b;
                if (b < 0x80 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
                {
                    result.Append(c);
                }
                else
                {
                    result.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            return result.ToString();
        }
    }
}

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
            byte[] bytes = Encoding.UTF8.GetBytes(value);
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

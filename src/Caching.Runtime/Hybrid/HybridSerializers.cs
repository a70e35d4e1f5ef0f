using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Caching.Hybrid;

/// <summary>
/// Finds the serializer of each type for <see cref="EngineHybridCache"/>, in HybridCache's order: an
/// <see cref="IHybridCacheSerializer{T}"/> registered for the type, else the first registered
/// <see cref="IHybridCacheSerializerFactory"/> that accepts it, the last registered asked first (as Microsoft's
/// implementation does), else System.Text.Json with the application's <c>JsonOptions</c>, as <see cref="ICache"/> and
/// minimal APIs write values. Each type's serializer is found once and kept.
/// </summary>
internal sealed class HybridSerializers
{
    // Microsoft's own serializers (registered by AddHybridCache: strings and byte arrays raw, anything else JSON with
    // default options) are skipped, so that values stay readable by ICache and endpoints whichever order the app
    // registered in. The namespace is the only mark they carry (they are internal types).
    private const string MicrosoftInternals = "Microsoft.Extensions.Caching.Hybrid.Internal";

    private readonly IServiceProvider _services;
    private readonly IHybridCacheSerializerFactory[] _factories;
    private readonly JsonSerializerOptions _json;
    private readonly ConcurrentDictionary<Type, object> _byType = new();

    public HybridSerializers(IServiceProvider services, IEnumerable<IHybridCacheSerializerFactory> factories, IOptions<HttpJsonOptions> jsonOptions)
    {
        _services = services;
        _factories = factories.Where(static f => !IsMicrosofts(f)).Reverse().ToArray();
        _json = jsonOptions.Value.SerializerOptions;
    }

    /// <summary>The serializer of <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <returns>The registered serializer, a factory's, or the JSON one.</returns>
    public IHybridCacheSerializer<T> For<T>()
        => _byType.TryGetValue(typeof(T), out object? known) ? (IHybridCacheSerializer<T>)known : (IHybridCacheSerializer<T>)_byType.GetOrAdd(typeof(T), Resolve<T>());

    private IHybridCacheSerializer<T> Resolve<T>()
    {
        if (_services.GetService<IHybridCacheSerializer<T>>() is { } registered && !IsMicrosofts(registered))
        {
            return registered;
        }

        foreach (IHybridCacheSerializerFactory factory in _factories)
        {
            if (factory.TryCreateSerializer(out IHybridCacheSerializer<T>? created))
            {
                return created;
            }
        }

        // Resolving through the options honours source-generated JsonSerializerContexts and stays trim-safe.
        return new JsonHybridSerializer<T>((JsonTypeInfo<T>)_json.GetTypeInfo(typeof(T)));
    }

    private static bool IsMicrosofts(object serializer) => serializer.GetType().Namespace == MicrosoftInternals;

    /// <summary>Serializes a value to the bytes stored.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The bytes.</returns>
    public byte[] Serialize<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        For<T>().Serialize(value, buffer);
        ReadOnlySpan<byte> bytes = buffer.WrittenSpan;

        // Bytes that start with 0xCA (a custom binary serializer's: MessagePack's float32, for one) would be read as
        // one of the cache's own formats (a lease, a timed or namespaced entry, an envelope): they are stored inside
        // an envelope instead, which every reader unwraps to these bytes.
        return bytes.Length >= 2 && bytes[0] == 0xCA
            ? global::Caching.AspNetCore.StoredResponse.Encode(200, string.Empty, [], bytes, string.Empty, DateTimeOffset.UnixEpoch, 0, out _)!
            : bytes.ToArray();
    }

    /// <summary>
    /// Reads a stored value. An entry an endpoint stored may be an envelope (status, headers, entity tag, Brotli): its
    /// body is the value, as <see cref="ICache"/> reads it.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="stored">The stored bytes.</param>
    /// <returns>The value.</returns>
    public T Deserialize<T>(ReadOnlyMemory<byte> stored)
        => For<T>().Deserialize(new ReadOnlySequence<byte>(global::Caching.AspNetCore.StoredResponse.BodyOf(stored)));

    // System.Text.Json through the application's options: the same bytes ICache and minimal APIs write.
    private sealed class JsonHybridSerializer<T>(JsonTypeInfo<T> typeInfo) : IHybridCacheSerializer<T>
    {
        public T Deserialize(ReadOnlySequence<byte> source)
        {
            var reader = new Utf8JsonReader(source);
            return JsonSerializer.Deserialize(ref reader, typeInfo)!;
        }

        public void Serialize(T value, IBufferWriter<byte> target)
        {
            using var writer = new Utf8JsonWriter(target);
            JsonSerializer.Serialize(writer, value, typeInfo);
        }
    }
}

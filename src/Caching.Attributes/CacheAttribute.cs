using System;
using System.Runtime.CompilerServices;

namespace Caching
{
    /// <summary>
    /// Caches the result of a minimal-API handler or controller action (GET and HEAD), or invalidates
    /// cached entries after a successful write (POST, PUT, PATCH, DELETE).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The cache key of an endpoint is <c>"{formatted KeyPrefix}:{resource id}"</c>: placeholders such as
    /// <c>{userId}</c> in <see cref="KeyPrefix"/> are replaced by the handler's argument of that name, and
    /// the resource id is the argument named by <see cref="ResourceIdName"/>. For
    /// <c>[Cache("user_{userId}_posts", ResourceIdName = "page")]</c> with <c>userId = 42</c> and
    /// <c>page = 2</c> the key is <c>user_42_posts:2</c>.
    /// </para>
    /// <para>
    /// Placeholders are bound to handler parameters (and their members, as in <c>{update.CategoryId}</c>)
    /// at build time by the Caching source generator; a template that names no parameter is a build error.
    /// Every value is formatted with the invariant culture and encoded so that two different values never
    /// produce the same key, and values placed into patterns are glob-escaped so that no request value
    /// can widen a pattern.
    /// </para>
    /// <para>
    /// A GET or HEAD reads the key: a hit returns the stored response without running the handler; a miss
    /// runs the handler and, when it succeeds with a value, stores the value for <see cref="Expiration"/>
    /// seconds. Any other method runs the handler and, only when it succeeds, deletes its own key (or, with
    /// <see cref="WriteThrough"/>, stores the new value there), each <see cref="ToInvalidateExtra"/> key,
    /// every key matching a <see cref="PatternToInvalidateExtra"/> pattern, every entry filed under an
    /// <see cref="InvalidateTags"/> tag, and every entry under an <see cref="InvalidateNamespaces"/> namespace.
    /// </para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
    public sealed class CacheAttribute : Attribute
    {
        /// <summary>Creates the attribute.</summary>
        /// <param name="keyPrefix">
        /// The key prefix template, for example <c>"post"</c> or <c>"user_{userId}_posts"</c>. The key of an
        /// entry is <c>"{formatted KeyPrefix}:{resource id}"</c>.
        /// </param>
        /// <param name="sourceFilePath">Filled in by the compiler: the file the attribute is written in. Leave it out.</param>
        /// <param name="sourceLineNumber">Filled in by the compiler: the line the attribute is written on. Leave it out.</param>
        public CacheAttribute(
            string keyPrefix,
            [CallerFilePath] string sourceFilePath = "",
            [CallerLineNumber] int sourceLineNumber = 0)
        {
            KeyPrefix = keyPrefix;
            SourceFilePath = sourceFilePath;
            SourceLineNumber = sourceLineNumber;
        }

        /// <summary>
        /// Where the attribute is written: the source file, as the compiler saw it. With the Request Delegate
        /// Generator on (Native AOT), the runtime finds the generated caching code of a minimal-API endpoint by
        /// this file and <see cref="SourceLineNumber"/>.
        /// </summary>
        public string SourceFilePath { get; }

        /// <summary>Where the attribute is written: its line in <see cref="SourceFilePath"/>.</summary>
        public int SourceLineNumber { get; }

        /// <summary>
        /// The key prefix template: the part of the key before the last <c>':'</c>. Placeholders
        /// (<c>{name}</c> or <c>{name.Member}</c>) are filled from handler arguments.
        /// </summary>
        public string KeyPrefix { get; }

        /// <summary>
        /// The handler parameter whose value is the resource id, the part of the key after the last
        /// <c>':'</c>. When omitted, the parameter named <c>id</c> is used, else the only parameter whose
        /// name ends in <c>Id</c>; anything ambiguous is a build error.
        /// </summary>
        public string? ResourceIdName { get; set; }

        /// <summary>
        /// A fixed resource id, for endpoints that have none, such as <c>"global"</c> in
        /// <c>[Cache("recent_posts", ResourceId = "global")]</c> (key <c>recent_posts:global</c>). Set either this or
        /// <see cref="ResourceIdName"/>.
        /// </summary>
        public string? ResourceId { get; set; }

        /// <summary>Time to live of a cached entry, in seconds. Must be positive. Defaults to 3600 (one hour).</summary>
        public int Expiration { get; set; } = 3600;

        /// <summary>
        /// Stale-if-error (RFC 5861), in seconds: how long past <see cref="Expiration"/> the entry is kept to answer,
        /// marked stale (<c>X-Cache: STALE</c>), when its reload fails (the handler throws or answers 5xx). -1 (the
        /// default) takes <c>CachingOptions.StaleIfError</c>; 0 turns it off. An invalidation removes the stale copy
        /// too. On a write, applies to the entry <see cref="WriteThrough"/> stores.
        /// </summary>
        public int StaleIfError { get; set; } = -1;

        /// <summary>
        /// Stale-while-revalidate (RFC 5861), in seconds: how long past <see cref="Expiration"/> the entry is served at
        /// once, marked stale, while one request (one per key across instances) reloads it. -1 (the default) takes
        /// <c>CachingOptions.StaleWhileRevalidate</c>; 0 turns it off. An invalidation removes the stale copy too.
        /// On a write, applies to the entry <see cref="WriteThrough"/> stores.
        /// </summary>
        public int StaleWhileRevalidate { get; set; } = -1;

        /// <summary>
        /// Key templates that a successful write deletes as well, each a complete key such as
        /// <c>"user_posts:{userId}"</c> or <c>"recent_posts:global"</c>. Ignored on GET and HEAD.
        /// </summary>
        public string[]? ToInvalidateExtra { get; set; }

        /// <summary>
        /// Glob pattern templates (Redis <c>MATCH</c> syntax: <c>* ? [abc] [^a] [a-c] \x</c>) whose matching
        /// keys a successful write deletes, such as <c>"user_{userId}_posts:*"</c>. Glob characters written
        /// in the template are wildcards; values filled into placeholders are always literal. Deleted with
        /// SCAN on every primary, never KEYS. Ignored on GET and HEAD.
        /// </summary>
        public string[]? PatternToInvalidateExtra { get; set; }

        /// <summary>
        /// Tag templates a cached entry is filed under, such as <c>"products"</c> or
        /// <c>"category:{categoryId}"</c>. Invalidating a tag deletes every entry filed under it.
        /// </summary>
        public string[]? Tags { get; set; }

        /// <summary>Tag templates whose entries a successful write invalidates. Ignored on GET and HEAD.</summary>
        public string[]? InvalidateTags { get; set; }

        /// <summary>
        /// Namespace template a cached entry belongs to, such as <c>"user:{userId}"</c>. Every entry of a
        /// namespace is invalidated at once, in O(1), by bumping the namespace's version.
        /// </summary>
        public string? Namespace { get; set; }

        /// <summary>Namespace templates whose entries a successful write invalidates. Ignored on GET and HEAD.</summary>
        public string[]? InvalidateNamespaces { get; set; }

        /// <summary>
        /// Caches one response per user: the user's id (the <c>NameIdentifier</c> or <c>sub</c> claim, else the
        /// identity's name) is added to the key, and requests with credentials are cached instead of bypassing the
        /// cache. Invalidating the endpoint's key invalidates every user's copy. Requests that carry an
        /// Authorization header the app did not authenticate are never cached.
        /// </summary>
        public bool VaryByUser { get; set; }

        /// <summary>
        /// When <see langword="true"/>, a successful write stores its result under its own key (with
        /// <see cref="Expiration"/>) instead of deleting the key, so the next read is a fresh hit.
        /// </summary>
        public bool WriteThrough { get; set; }
    }
}

using Caching.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Caching.Hosting;

/// <summary>Checks <see cref="CachingOptions"/> at start-up; every message says what to fix.</summary>
internal sealed class CachingOptionsValidator(IServiceProvider services) : IValidateOptions<CachingOptions>
{
    public ValidateOptionsResult Validate(string? name, CachingOptions options)
    {
        var failures = new List<string>();
        if (options.MaxKeyLength is < 16 or > 512 * 1024 * 1024)
        {
            failures.Add($"Caching:MaxKeyLength is {options.MaxKeyLength}; set it between 16 and 536870912 bytes (Redis's limit). The default is 1024.");
        }

        if (string.IsNullOrEmpty(options.InternalKeyPrefix))
        {
            failures.Add("Caching:InternalKeyPrefix is empty; set a prefix such as \"caching:\" that no application key starts with.");
        }
        else if (options.InternalKeyPrefix.Contains('{') || options.InternalKeyPrefix.Contains('}'))
        {
            failures.Add($"Caching:InternalKeyPrefix '{options.InternalKeyPrefix}' contains a brace: on a Redis cluster a hash tag in it would put the store's indexes in other slots than their entries; use letters, digits and ':'.");
        }
        else if (options.InternalKeyPrefix.Any(RedisGlob.IsSpecial))
        {
            failures.Add($"Caching:InternalKeyPrefix '{options.InternalKeyPrefix}' contains a glob character (\\ * ? [ ]); use letters, digits and ':'.");
        }

        if (options.DefaultExpiration <= TimeSpan.Zero)
        {
            failures.Add($"Caching:DefaultExpiration is {options.DefaultExpiration}; set a positive time span such as 01:00:00.");
        }

        if (options.StaleIfError < TimeSpan.Zero || options.StaleWhileRevalidate < TimeSpan.Zero || options.SoftTimeout < TimeSpan.Zero)
        {
            failures.Add($"Caching:StaleIfError is {options.StaleIfError}, Caching:StaleWhileRevalidate {options.StaleWhileRevalidate} and Caching:SoftTimeout {options.SoftTimeout}; set zero (off) or a positive time span such as 00:05:00.");
        }

        if (options.NamespaceVersionLifetime <= TimeSpan.Zero)
        {
            failures.Add($"Caching:NamespaceVersionLifetime is {options.NamespaceVersionLifetime}; set a positive time span such as 1.00:00:00.");
        }

        if (options.ScanPageSize is < 10 or > 100_000)
        {
            failures.Add($"Caching:ScanPageSize is {options.ScanPageSize}; set it between 10 and 100000 (the default is 1000).");
        }

        if (options.DeleteBatchSize is < 1 or > 10_000)
        {
            failures.Add($"Caching:DeleteBatchSize is {options.DeleteBatchSize}; set it between 1 and 10000 (the default is 500).");
        }

        if (options.InMemorySweepInterval <= TimeSpan.Zero)
        {
            failures.Add($"Caching:InMemorySweepInterval is {options.InMemorySweepInterval}; set a positive time span such as 00:01:00.");
        }

        if (options.InMemorySizeLimit <= 0)
        {
            failures.Add($"Caching:InMemorySizeLimit is {options.InMemorySizeLimit}; set a positive number of bytes such as 268435456 (256 MB).");
        }

        if (options.ExpirationJitter is < 0 or > 1 || double.IsNaN(options.ExpirationJitter))
        {
            failures.Add($"Caching:ExpirationJitter is {options.ExpirationJitter}; set a fraction between 0 (off) and 1, such as 0.1 for up to 10% longer lifetimes.");
        }

        if (options.LeaseDuration <= TimeSpan.Zero)
        {
            failures.Add($"Caching:LeaseDuration is {options.LeaseDuration}; set a positive time span longer than your slowest handler, such as 00:00:30.");
        }

        if (options.DistributedStampedeProtection && !options.UseLeases)
        {
            failures.Add("Caching:DistributedStampedeProtection needs Caching:UseLeases = true: the lease is the distributed lock.");
        }

        if (options.LocalCache && !options.UsesRedis)
        {
            failures.Add("Caching:LocalCache (two-level mode) needs Redis: set Caching:Redis, or turn LocalCache off (the in-process store is already local).");
        }

        if (options.LocalCacheExpiration <= TimeSpan.Zero)
        {
            failures.Add($"Caching:LocalCacheExpiration is {options.LocalCacheExpiration}; set a positive time span such as 00:00:30.");
        }

        if (options.CircuitBreakerFailures < 1)
        {
            failures.Add($"Caching:CircuitBreakerFailures is {options.CircuitBreakerFailures}; set 1 or more (the default is 3).");
        }

        if (options.CircuitBreakerDuration <= TimeSpan.Zero || options.InvalidationRetryInterval <= TimeSpan.Zero)
        {
            failures.Add("Caching:CircuitBreakerDuration and Caching:InvalidationRetryInterval must be positive time spans, such as 00:00:05 and 00:00:01.");
        }

        if (options.MaxPendingInvalidations < 0)
        {
            failures.Add($"Caching:MaxPendingInvalidations is {options.MaxPendingInvalidations}; set 0 or more (0 flushes on every recovery).");
        }

        if (options.CompressionThreshold < 0)
        {
            failures.Add($"Caching:CompressionThreshold is {options.CompressionThreshold}; set a number of bytes such as 1024, or 0 to store bodies uncompressed.");
        }

        if (options.MaximumBodySize <= 0)
        {
            failures.Add($"Caching:MaximumBodySize is {options.MaximumBodySize}; set a positive number of bytes such as 16777216.");
        }

        if (options.CoalescingTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Caching:CoalescingTimeout is {options.CoalescingTimeout}; set a positive time span such as 00:00:10.");
        }

        bool hasRegisteredConnection = services.GetService<IConnectionMultiplexer>() is not null;
        if (options.UseRegisteredRedis && !hasRegisteredConnection)
        {
            failures.Add("Caching is set to reuse a registered IConnectionMultiplexer (UseRedis() or Caching:UseRegisteredRedis), but none is registered; register one, or pass a connection string: UseRedis(\"127.0.0.1:6379\") or Caching:Redis.");
        }

        if (!string.IsNullOrWhiteSpace(options.Redis) && !hasRegisteredConnection)
        {
            try
            {
                ConfigurationOptions.Parse(options.Redis);
            }
            catch (Exception ex) when (ex is ArgumentException or RedisConnectionException or FormatException)
            {
                failures.Add($"Caching:Redis '{options.Redis}' is not a valid StackExchange.Redis connection string ({ex.Message}); use host:port, such as 127.0.0.1:6379.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

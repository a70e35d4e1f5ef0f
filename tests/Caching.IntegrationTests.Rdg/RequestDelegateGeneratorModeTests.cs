namespace Caching.IntegrationTests;

/// <summary>This project really is built the way PublishAot builds: the Request Delegate Generator made its endpoints.</summary>
public sealed class RequestDelegateGeneratorModeTests
{
    [Fact]
    public void The_request_delegate_generator_intercepted_the_map_calls_and_the_caching_generator_registered_instead()
    {
        Type[] types = typeof(Infrastructure.TestAppHost).Assembly.GetTypes();

        Assert.Contains(types, t => t.Namespace == "Microsoft.AspNetCore.Http.Generated");
        Assert.Contains(types, t => t.Namespace == "Caching.Generated" && t.Name.Contains("CachedEndpointRegistrations", StringComparison.Ordinal));
        Assert.DoesNotContain(types, t => t.Namespace == "Caching.Generated" && t.Name.Contains("CacheInterceptors", StringComparison.Ordinal));
    }
}

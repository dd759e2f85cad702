using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Web.Tests.FrontDoor;

[Collection(FrontDoorCollection.Name)]
public sealed class RouteTableTests(FrontDoorFixture fixture)
{
    [Fact]
    public void MapFrontDoor_MapsEveryRouteAsAnEndpoint_LeavingApiRoutesToApisOwnAuthentication()
    {
        var endpoints = fixture.Web.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.DisplayName?.StartsWith("Front door", StringComparison.Ordinal) == true)
            .ToDictionary(e => e.RoutePattern.RawText!);

        Assert.Equal(["/api/{**rest}", "/hubs/{**rest}", "/ide/{id}/{**rest}", "/openapi/{**rest}", "/workload/{id}/{**rest}"], endpoints.Keys.Order());
        Assert.All(["/api/{**rest}", "/hubs/{**rest}", "/openapi/{**rest}"],
            api => Assert.NotNull(endpoints[api].Metadata.GetMetadata<IAllowAnonymous>()));
        Assert.Null(endpoints["/workload/{id}/{**rest}"].Metadata.GetMetadata<IAllowAnonymous>());
        // The IDE route asks Web's authorization for a signed-in user before the resolver checks ownership.
        Assert.Null(endpoints["/ide/{id}/{**rest}"].Metadata.GetMetadata<IAllowAnonymous>());
        Assert.NotNull(endpoints["/ide/{id}/{**rest}"].Metadata.GetMetadata<IAuthorizeData>());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>Downloads straight from S3 (Swift's s3api, real signatures): issued after the access check, refused when forged.</summary>
public sealed class PresignedDownloadTests(S3ApiFactory factory) : IClassFixture<S3ApiFactory>
{
    [Fact]
    public async Task Redirect_GivesAOneMinuteLinkToTheStore_ForSharees_UntilTheShareIsRevoked()
    {
        var owner = await factory.CreateUserAsync("s3owner");
        var reader = await factory.CreateUserAsync("s3reader");
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var created = await owner.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "direct" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/weights/model.bin", new ByteArrayContent(bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).StatusCode);
        var share = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = reader.Email, access = "read" });
        var shareId = (await share.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var redirect = await reader.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/files/weights/model.bin?redirect=true");

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var link = redirect.Headers.Location!;
        Assert.Equal(factory.S3.Endpoint.Authority, link.Authority);
        Assert.Matches("X-Amz-Expires=6[01](&|$)", link.Query);
        Assert.Contains("no-store", redirect.Headers.CacheControl?.ToString());
        using var s3 = factory.S3.CreateHttpClient();
        using (var direct = await s3.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
            Assert.Equal(bytes, await direct.Content.ReadAsByteArrayAsync());
            Assert.Equal("application/octet-stream", direct.Content.Headers.ContentType?.MediaType);
            Assert.Contains("model.bin", direct.Content.Headers.ContentDisposition?.ToString());
        }

        var forged = new Uri(link.AbsoluteUri.Replace("X-Amz-Signature=", "X-Amz-Signature=0", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await s3.GetAsync(forged)).StatusCode);
        var anotherObject = new Uri(link.GetLeftPart(UriPartial.Path) + "x" + link.Query);
        Assert.Equal(HttpStatusCode.Forbidden, (await s3.GetAsync(anotherObject)).StatusCode);

        // Without redirect the platform streams it, as for any store.
        Assert.Equal(bytes, await reader.Client.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/1/files/weights/model.bin"));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/shares/{shareId}")).StatusCode);
        await (await reader.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/files/weights/model.bin?redirect=true"))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await reader.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/files/missing.bin?redirect=true"))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }
}

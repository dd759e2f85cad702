namespace Platform.Web.FrontDoor;

/// <summary>
/// Settings of the front door, bound from the <c>FrontDoor</c> section and validated on start, so a missing Api
/// address stops Web at startup instead of turning every proxied request into a 502.
/// </summary>
public sealed class FrontDoorOptions
{
    public const string SectionName = "FrontDoor";

    /// <summary>
    /// The Api's base address. Set from <c>services:api:http:0</c> (env <c>services__api__http__0</c>), or
    /// <c>services:api:https:0</c> when there is no plain-HTTP one, following Aspire's config contract; not read
    /// from this section, so the contract is the one place it is given.
    /// </summary>
    public Uri? ApiAddress { get; set; }

    /// <summary>
    /// How long an upstream may take to answer with its response headers before the caller gets a 504. Once the
    /// headers have arrived the body streams for as long as both ends keep the connection, so server-sent events
    /// and followed logs are not cut; routes may override this per route. HttpClient's default, 100 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>How long to wait for a TCP connection to an upstream: a dead host must fail fast, not at the request timeout.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

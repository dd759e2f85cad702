using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;
using Platform.Core;

namespace Platform.AppHost.Services;

/// <summary>One service's place: its project, its port and the address it listens on.</summary>
internal sealed record ServiceEndpoint(string Name, string Project, int Port, IPAddress Bind)
{
    /// <summary>Where the AppHost and the other services reach it: loopback when it listens on every address.</summary>
    public Uri Url => new($"http://{Format(Reachable(Bind))}:{Port}");

    public string ListenUrl => $"http://{Format(Bind)}:{Port}";

    private static IPAddress Reachable(IPAddress bind) =>
        bind.Equals(IPAddress.Any) ? IPAddress.Loopback : bind.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : bind;

    internal static string Format(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}

/// <summary>A service ready to start: what to run, and the URL that says it is ready.</summary>
internal sealed record ServiceLaunch(ChildSpec Spec, Uri HealthUrl)
{
    public string Name => Spec.Name;
}

internal sealed record ServiceWiring(ServiceLaunch Api, ServiceLaunch Workers, ServiceLaunch Web);

/// <summary>
/// Step 4's plan: which dll each service runs from, which port it gets, and the environment that wires it —
/// Aspire's config contract (ConnectionStrings__*, services__{name}__http__0, OTEL_*), so an Aspire AppHost
/// could replace this one without touching the services.
/// </summary>
internal sealed class ServicePlan
{
    private static readonly string[] PassedThroughSections = ["Platform", "Mail", "Compute"];

    private readonly AppHostOptions _options;

    private ServicePlan(AppHostOptions options, ServiceEndpoint api, ServiceEndpoint workers, ServiceEndpoint web)
    {
        _options = options;
        Api = api;
        Workers = workers;
        Web = web;
        PublicUrl = (options.PublicUrl ?? DefaultPublicUrl(web)).TrimEnd('/');
    }

    public ServiceEndpoint Api { get; }

    public ServiceEndpoint Workers { get; }

    public ServiceEndpoint Web { get; }

    /// <summary>The URL people open: Platform:PublicUrl when the operator set it (a proxy in front), else Web's.</summary>
    public string PublicUrl { get; }

    private IEnumerable<ServiceEndpoint> All => [Api, Workers, Web];

    /// <summary>Checks the services are built and chooses their ports, before anything is started.</summary>
    public static ServicePlan Prepare(AppHostOptions options, ConsoleOutput output, ISet<int> takenPorts)
    {
        foreach (var project in new[] { "Api", "Workers", "Web" })
        {
            var assembly = options.Repository.ServiceAssembly(project);
            if (!File.Exists(assembly))
            {
                throw new StartupFailure($"{assembly} is missing: run `dotnet build` in {options.Repository.Root} " +
                    $"(configuration {options.Repository.Configuration}), or start with `dotnet run --project AppHost`, which builds it.");
            }
        }

        var (webPort, note) = Ports.Choose(options.Host, options.Port, AppHostOptions.DefaultPort, "Web", takenPorts);
        if (note is not null)
        {
            output.Warn(note);
        }

        // Api and Workers are reached only through Web and by each other: loopback, any free port.
        var api = new ServiceEndpoint("api", "Api", Ports.PickFree(IPAddress.Loopback, takenPorts), IPAddress.Loopback);
        var workers = new ServiceEndpoint("workers", "Workers", Ports.PickFree(IPAddress.Loopback, takenPorts), IPAddress.Loopback);
        var web = new ServiceEndpoint("web", "Web", webPort, options.Host);
        return new ServicePlan(options, api, workers, web);
    }

    public ServiceWiring Wire(string databaseConnectionString, string objectStoreConnectionString)
    {
        ServiceLaunch Launch(ServiceEndpoint service) => new(
            new ChildSpec(
                service.Name,
                DotnetHost.Path(),
                [_options.Repository.ServiceAssembly(service.Project)],
                // The project folder, as `dotnet run` would use: Web finds its wwwroot there.
                _options.Repository.ProjectDirectory(service.Project),
                EnvironmentFor(service, databaseConnectionString, objectStoreConnectionString),
                StopSignals.Service),
            new Uri(service.Url, "/health"));

        return new ServiceWiring(Launch(Api), Launch(Workers), Launch(Web));
    }

    internal Dictionary<string, string?> EnvironmentFor(ServiceEndpoint service, string database, string objectStore)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);

        // Platform:*, Mail:* and Compute:* settings given to the AppHost (appsettings.json, env, command line) go on;
        // the contract keys below are set after them and win.
        foreach (var section in PassedThroughSections)
        {
            foreach (var (key, value) in _options.Configuration.GetSection(section).AsEnumerable())
            {
                if (value is not null)
                {
                    environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
                }
            }
        }

        environment[$"ConnectionStrings__{CoreExtensions.DatabaseName}"] = database;
        environment[$"ConnectionStrings__{CoreExtensions.ObjectStoreName}"] = objectStore;
        foreach (var other in All.Where(s => s != service))
        {
            environment[$"services__{other.Name}__http__0"] = other.Url.ToString().TrimEnd('/');
        }

        environment["Platform__PublicUrl"] = PublicUrl;
        environment["Platform__ParentPid"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        environment["ASPNETCORE_URLS"] = service.ListenUrl;
        // Inherited port settings would compete with ASPNETCORE_URLS (and Kestrel warns about the override).
        foreach (var competing in new[] { "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "HTTP_PORTS", "HTTPS_PORTS", "DOTNET_URLS" })
        {
            environment[competing] = null;
        }

        var environmentName = HostEnvironmentName();
        environment["ASPNETCORE_ENVIRONMENT"] = environmentName;
        environment["DOTNET_ENVIRONMENT"] = environmentName;
        environment["OTEL_SERVICE_NAME"] = service.Name;
        if (_options.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 } otlp)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
        }

        environment["Compute__Backend"] = _options.ComputeBackend;
        // Workloads of the process backend keep their workspaces under it ({DataDir}/workspaces), unless configured apart.
        environment.TryAdd("Platform__DataDir", _options.DataDirectory);
        return environment;
    }

    private static string HostEnvironmentName() =>
        Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } aspnet ? aspnet
        : Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is { Length: > 0 } dotnet ? dotnet
        : "Production";

    private static string DefaultPublicUrl(ServiceEndpoint web) =>
        web.Bind.Equals(IPAddress.Any) || web.Bind.Equals(IPAddress.IPv6Any)
            ? $"http://{Dns.GetHostName()}:{web.Port}"
            : web.Url.ToString();
}

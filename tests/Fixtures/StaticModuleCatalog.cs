using Platform.Core.Catalog;

namespace Platform.Tests.Fixtures;

/// <summary>
/// A catalog of fixed modules for tests that deploy: <c>development</c> (Jupyter and VS Code, like the built-in one)
/// and <c>echo-api</c> (an API on Python's standard HTTP server). The real catalog loads folders; deployments only
/// read modules through <see cref="IModuleCatalog"/>.
/// </summary>
public sealed class StaticModuleCatalog(params ModuleManifest[] modules) : IModuleCatalog
{
    public static ModuleManifest Development { get; } = new(
        "development", "Development environment", "Jupyter or VS Code with the SDK", "# Development", ["cpu"],
        [ModuleService.Jupyter, ModuleService.VsCode], new ModuleImages("localhost/platform-jupyter:latest", null, ["latest"]),
        new ModuleResources(new ResourceRequest(1, 0, 2048, 10), new ResourceRequest(4, 1, 8192, 50)),
        new ModuleCommands(null, null));

    public static ModuleManifest EchoApi { get; } = new(
        "echo-api", "Echo API", "Answers every GET", "# Echo", ["cpu"],
        [ModuleService.Api], new ModuleImages("platform/echo:cpu", null, ["latest"]),
        new ModuleResources(new ResourceRequest(1, 0, 512, 1), new ResourceRequest(2, 0, 1024, 5)),
        new ModuleCommands(["python3", "-c", "import http.server, os; http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), http.server.SimpleHTTPRequestHandler).serve_forever()"], null));

    /// <summary>"Run your own image": the user names the image; it serves an API under its own entrypoint.</summary>
    public static ModuleManifest OwnImage { get; } = new(
        "custom-image", "Run your own image", "Your image, your API", "# Run your own image", ["custom"],
        [ModuleService.Api], new ModuleImages(null, null, ["latest"], Custom: true),
        new ModuleResources(new ResourceRequest(1, 0, 1024, 2), new ResourceRequest(2, 0, 4096, 10)),
        new ModuleCommands(null, null));

    public static StaticModuleCatalog Default { get; } = new(Development, EchoApi, OwnImage);

    public CatalogSnapshot Current { get; } = new(modules, [], DateTimeOffset.UnixEpoch, "tests");

    public ModuleManifest? Find(string name) => Current.Modules.FirstOrDefault(m => m.Name == name);
}

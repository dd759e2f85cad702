using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Platform.Core.Catalog;

/// <summary>
/// Reads one module folder (<c>module.json</c> and <c>README.md</c>) into a <see cref="ModuleManifest"/>, or says
/// everything that is wrong with it. Pure: no state, no exceptions for bad input, so one broken module never stops
/// the others from loading.
/// </summary>
public static partial class ModuleManifestReader
{
    public const string ManifestFile = "module.json";
    public const string ReadmeFile = "README.md";
    public const int MaxManifestBytes = 64 * 1024;
    public const int MaxReadmeBytes = 256 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    public static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex TagPattern();

    /// <summary>The manifest of <paramref name="folder"/>, or the errors (each a sentence) that keep it out of the catalog.</summary>
    public static (ModuleManifest? Manifest, IReadOnlyList<string> Errors) Read(string folder)
    {
        var manifestPath = Path.Combine(folder, ManifestFile);
        var readmePath = Path.Combine(folder, ReadmeFile);
        if (!File.Exists(manifestPath))
        {
            return (null, [$"{ManifestFile} is missing."]);
        }

        var errors = new List<string>();
        ManifestDocument? document = null;
        if (new FileInfo(manifestPath).Length > MaxManifestBytes)
        {
            errors.Add($"{ManifestFile} is larger than {MaxManifestBytes / 1024} KiB.");
        }
        else
        {
            try
            {
                document = JsonSerializer.Deserialize<ManifestDocument>(File.ReadAllText(manifestPath), Json);
                if (document is null)
                {
                    errors.Add($"{ManifestFile} is null; it must be an object.");
                }
            }
            catch (JsonException e)
            {
                errors.Add($"{ManifestFile} is not valid: {e.Message}");
            }
        }

        string? readme = null;
        if (!File.Exists(readmePath))
        {
            errors.Add($"{ReadmeFile} is missing.");
        }
        else if (new FileInfo(readmePath).Length > MaxReadmeBytes)
        {
            errors.Add($"{ReadmeFile} is larger than {MaxReadmeBytes / 1024} KiB.");
        }
        else
        {
            readme = File.ReadAllText(readmePath);
        }

        if (document is null)
        {
            return (null, errors);
        }

        var manifest = Validate(document, Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), readme ?? "", errors);
        return errors.Count == 0 ? (manifest with { Folder = Path.GetFullPath(folder) }, errors) : (null, errors);
    }

    private static ModuleManifest Validate(ManifestDocument d, string folderName, string readme, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(d.Name))
        {
            errors.Add("name is required.");
        }
        else if (!NamePattern().IsMatch(d.Name))
        {
            errors.Add($"name '{d.Name}' must be 1 to 63 lowercase letters, digits or dashes, starting with a letter or digit.");
        }
        else if (d.Name != folderName)
        {
            errors.Add($"name '{d.Name}' must be the folder's name, '{folderName}'.");
        }

        Require(d.Title, "title", 100, errors);
        Require(d.Summary, "summary", 300, errors);

        var tags = d.Tags ?? [];
        foreach (var tag in tags.Where(t => t is null || !TagPattern().IsMatch(t)))
        {
            errors.Add($"tag '{tag}' must be 1 to 32 lowercase letters, digits or dashes.");
        }

        var services = new List<ModuleService>();
        if (d.Services is not { Count: > 0 })
        {
            errors.Add("services must name at least one of jupyter, vscode, api.");
        }
        else
        {
            foreach (var name in d.Services)
            {
                if (ModuleServices.TryParse(name, out var service))
                {
                    if (!services.Contains(service))
                    {
                        services.Add(service);
                    }
                }
                else
                {
                    errors.Add($"service '{name}' is unknown: use jupyter, vscode or api.");
                }
            }
        }

        var apiCommand = Command(d.Commands?.Api, "commands.api", errors);
        var trainCommand = Command(d.Commands?.Train, "commands.train", errors);
        var images = d.Images ?? new ImagesDocument(null, null, null, null);
        var custom = images.Custom == true;
        if (services.Contains(ModuleService.Api) && apiCommand is null && !custom)
        {
            errors.Add("the api service needs commands.api: the command that starts the module's HTTP API.");
        }

        var imageTags = images.Tags is { Count: > 0 } t ? t : ["latest"];
        foreach (var tag in imageTags.Where(x => string.IsNullOrWhiteSpace(x) || x.Length > 128 || x.Any(char.IsWhiteSpace)))
        {
            errors.Add($"image tag '{tag}' must be 1 to 128 characters without spaces.");
        }

        var resources = Resources(d.Resources, errors);
        return new ModuleManifest(d.Name ?? "", d.Title?.Trim() ?? "", d.Summary?.Trim() ?? "", readme, tags.Distinct().ToList(), services,
            new ModuleImages(Blank(images.Cpu), Blank(images.Gpu), imageTags.Distinct().ToList(), custom), resources,
            new ModuleCommands(apiCommand, trainCommand));
    }

    private static ModuleResources Resources(ResourcesDocument? r, List<string> errors)
    {
        if (r?.Default is not { } low || r.Max is not { } high)
        {
            errors.Add("resources needs both default and max, each with cpus, gpus, memoryMiB and diskGiB.");
            return new ModuleResources(new ResourceRequest(0, 0, 0, 0), new ResourceRequest(0, 0, 0, 0));
        }

        var fields = new (string Name, double Default, double Max, bool Positive)[]
        {
            ("cpus", low.Cpus, high.Cpus, true),
            ("gpus", low.Gpus, high.Gpus, false),
            ("memoryMiB", low.MemoryMiB, high.MemoryMiB, true),
            ("diskGiB", low.DiskGiB, high.DiskGiB, true),
        };
        foreach (var (name, value, max, positive) in fields)
        {
            if (value < 0 || max < 0 || double.IsNaN(value) || double.IsNaN(max))
            {
                errors.Add($"resources.{name} must not be negative.");
            }
            else if (value > max)
            {
                errors.Add($"resources.default.{name} ({value}) is more than resources.max.{name} ({max}).");
            }
            else if (positive && value == 0)
            {
                errors.Add($"resources.default.{name} must be more than 0.");
            }
        }

        return new ModuleResources(low, high);
    }

    private static void Require(string? value, string field, int maxLength, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{field} is required.");
        }
        else if (value.Trim().Length > maxLength)
        {
            errors.Add($"{field} must be at most {maxLength} characters.");
        }
    }

    private static IReadOnlyList<string>? Command(IReadOnlyList<string>? command, string field, List<string> errors)
    {
        if (command is null || command.Count == 0)
        {
            return null;
        }

        if (command.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add($"{field} must be a list of non-empty arguments, the program first.");
            return null;
        }

        return command;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // The file's shape, every member optional, so a missing one is a sentence in the errors rather than an exception.
    private sealed record ManifestDocument(
        string? Name, string? Title, string? Summary, IReadOnlyList<string>? Tags, IReadOnlyList<string>? Services,
        ImagesDocument? Images, ResourcesDocument? Resources, CommandsDocument? Commands);

    private sealed record ImagesDocument(string? Cpu, string? Gpu, IReadOnlyList<string>? Tags, bool? Custom);

    private sealed record ResourcesDocument(ResourceRequest? Default, ResourceRequest? Max);

    private sealed record CommandsDocument(IReadOnlyList<string>? Api, IReadOnlyList<string>? Train);
}

/// <summary>The services' names as manifests, the API and forms write them: jupyter, vscode, api.</summary>
public static class ModuleServices
{
    public static string ToName(this ModuleService service) => service switch
    {
        ModuleService.Jupyter => "jupyter",
        ModuleService.VsCode => "vscode",
        ModuleService.Api => "api",
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };

    public static bool TryParse(string? name, out ModuleService service)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "jupyter": service = ModuleService.Jupyter; return true;
            case "vscode": service = ModuleService.VsCode; return true;
            case "api": service = ModuleService.Api; return true;
            default: service = default; return false;
        }
    }
}

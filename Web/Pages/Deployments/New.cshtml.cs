using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Deployments;

/// <summary>
/// The deploy form: a module from the catalog, title, service, hardware within the module's ranges, the IDE password,
/// datasets to mount and the template. "Show template" asks the service for the exact spec without submitting it.
/// Core validates; each message goes beside its field.
/// </summary>
public sealed class NewModel(DeploymentService deployments, IModuleCatalog catalog, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "module")]
    public string? ModuleName { get; set; }

    [BindProperty]
    public DeployInput Input { get; set; } = new();

    public ModuleManifest? Module { get; private set; }

    public IReadOnlyList<ModuleManifest> Modules => catalog.Current.Modules;

    /// <summary>The spec "Show template" produced, as indented JSON.</summary>
    public string? Template { get; private set; }

    public IActionResult OnGet()
    {
        Module = catalog.Find(ModuleName ?? "") ?? Modules.FirstOrDefault();
        if (Module is not null)
        {
            var d = Module.Resources.Default;
            Input = new DeployInput
            {
                Module = Module.Name,
                Title = Module.Title,
                Service = Module.Services[0].ToString().ToLowerInvariant(),
                Cpus = d.Cpus.ToString(CultureInfo.InvariantCulture),
                Gpus = d.Gpus.ToString(CultureInfo.InvariantCulture),
                MemoryMiB = d.MemoryMiB.ToString(CultureInfo.InvariantCulture),
                DiskGiB = d.DiskGiB.ToString(CultureInfo.InvariantCulture),
                Template = "default",
            };
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        Module = catalog.Find(Input.Module ?? "");
        var created = await deployments.CreateAsync(currentUser.Id, Input.ToRequest(), ct);
        if (created.IsSuccess)
        {
            this.Flash($"“{created.Value!.Title}” is queued: this page follows it until it runs.");
            return RedirectToPage("Details", new { id = created.Value.Id });
        }

        ModelState.Clear();
        ModelState.AddError<DeployInput>(created.Error!);
        return Page();
    }

    public async Task<IActionResult> OnPostTemplateAsync(CancellationToken ct)
    {
        Module = catalog.Find(Input.Module ?? "");
        var spec = await deployments.SpecAsync(currentUser.Id, Input.ToRequest(), ct);
        ModelState.Clear();
        if (spec.IsSuccess)
        {
            Template = JsonSerializer.Serialize(spec.Value, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        }
        else
        {
            ModelState.AddError<DeployInput>(spec.Error!);
        }

        return Page();
    }

    public sealed class DeployInput
    {
        public string? Module { get; set; }

        public string? Title { get; set; }

        public string? Description { get; set; }

        public string? Service { get; set; }

        public string? ImageTag { get; set; }

        /// <summary>"Run your own image": the image to run.</summary>
        public string? Image { get; set; }

        // Numbers arrive as text so that "abc" is answered beside the field rather than lost by model binding.
        public string? Cpus { get; set; }

        public string? Gpus { get; set; }

        public string? MemoryMiB { get; set; }

        public string? DiskGiB { get; set; }

        public string? Template { get; set; }

        /// <summary>One <c>name@version</c> a line (or separated by commas).</summary>
        public string? Datasets { get; set; }

        public string? Password { get; set; }

        public CreateDeploymentRequest ToRequest() => new(
            null, Module, Title, Description, Service, string.IsNullOrWhiteSpace(ImageTag) ? null : ImageTag,
            Number(Cpus), Number(Gpus), (int?)Whole(MemoryMiB), (int?)Whole(DiskGiB), Template,
            (Datasets ?? "").Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Password, string.IsNullOrWhiteSpace(Image) ? null : Image.Trim());

        // Unparseable numbers become -1, which Core refuses with its range message beside the field.
        private static double? Number(string? text) =>
            string.IsNullOrWhiteSpace(text) ? null : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : -1;

        private static long? Whole(string? text) =>
            string.IsNullOrWhiteSpace(text) ? null : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v <= int.MaxValue ? v : -1;
    }
}

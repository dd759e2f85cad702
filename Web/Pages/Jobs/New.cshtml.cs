using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Jobs;

/// <summary>
/// The new-job form (and, with <c>?from={id}</c>, a clone of an existing job to edit). The command line is split here
/// the shell's way and options are read as key=value lines; Core validates the rest. Every message goes beside its
/// field and every value typed stays. "Show spec" shows the request that would be submitted; the preview box (js/
/// jobs-new.js) sends the same request to POST /api/v1/jobs/preview as the user types.
/// </summary>
public sealed class NewModel(JobService jobs, IModuleCatalog catalog, CurrentUser currentUser) : PageModel
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Core's field names to the form's inputs (Core's "datasets[1]" lands beside Datasets by itself).</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields = new Dictionary<string, string>
    {
        ["trainers.count"] = nameof(JobInput.TrainersCount),
        ["trainers.cpus"] = nameof(JobInput.TrainersCpus),
        ["trainers.gpus"] = nameof(JobInput.TrainersGpus),
        ["trainers.memoryMiB"] = nameof(JobInput.TrainersMemoryMiB),
        ["trainers"] = nameof(JobInput.TrainersCount),
        ["parameterServers.count"] = nameof(JobInput.ServersCount),
        ["parameterServers.cpus"] = nameof(JobInput.ServersCpus),
        ["parameterServers.gpus"] = nameof(JobInput.ServersGpus),
        ["parameterServers.memoryMiB"] = nameof(JobInput.ServersMemoryMiB),
        ["parameterServers"] = nameof(JobInput.ServersCount),
    };

    [BindProperty(SupportsGet = true, Name = "from")]
    public Guid? From { get; set; }

    [BindProperty]
    public JobInput Input { get; set; } = new();

    public IReadOnlyList<ModuleManifest> Modules => catalog.Current.Modules;

    /// <summary>The request "Show spec" produced, as indented JSON.</summary>
    public string? Spec { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (From is { } id)
        {
            var original = await jobs.GetAsync(currentUser.Id, id, ct);
            if (!original.IsSuccess)
            {
                return NotFound();
            }

            Input = JobInput.From(original.Value!);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        if (!TryRequest(out var request))
        {
            return Page();
        }

        var submitted = await jobs.SubmitAsync(currentUser.Id, request, ct);
        if (submitted.IsSuccess)
        {
            this.Flash($"“{submitted.Value!.Name}” is queued: this page follows it.");
            return RedirectToPage("Details", new { id = submitted.Value.Id });
        }

        ModelState.AddError<JobInput>(submitted.Error!, aliases: Fields);
        return Page();
    }

    public IActionResult OnPostSpec()
    {
        ModelState.Clear();
        if (TryRequest(out var request))
        {
            Spec = JsonSerializer.Serialize(request, Json);
        }

        return Page();
    }

    /// <summary>For the preview box: the request this form makes, or the form's own errors (quoting, option lines).</summary>
    public IActionResult OnPostRequest()
    {
        ModelState.Clear();
        var errors = Input.Problems();
        return new JsonResult(new { request = errors.Count == 0 ? Input.ToRequest() : null, errors }, Json);
    }

    private bool TryRequest(out SubmitJobRequest request)
    {
        request = null!;
        var problems = Input.Problems();
        foreach (var (field, message) in problems)
        {
            ModelState.AddModelError($"Input.{field}", message);
        }

        if (problems.Count > 0)
        {
            return false;
        }

        request = Input.ToRequest();
        return true;
    }

    /// <summary>The form as typed. Numbers arrive as text so "abc" is answered beside its field rather than lost.</summary>
    public sealed class JobInput
    {
        public string? Name { get; set; }

        public string? Type { get; set; } = "train";

        /// <summary>What runs: "command", "module" or "image".</summary>
        public string? Runs { get; set; } = "command";

        public string? Command { get; set; }

        public string? Module { get; set; }

        public string? Image { get; set; }

        /// <summary>One <c>name@version</c> a line (or separated by commas).</summary>
        public string? Datasets { get; set; }

        public string? Code { get; set; }

        public string? OutputModel { get; set; }

        /// <summary>key=value, one a line.</summary>
        public string? Options { get; set; }

        public string? TrainersCount { get; set; } = "1";

        public string? TrainersCpus { get; set; } = "1";

        public string? TrainersGpus { get; set; } = "0";

        public string? TrainersMemoryMiB { get; set; } = "1024";

        public string? ServersCount { get; set; } = "0";

        public string? ServersCpus { get; set; } = "1";

        public string? ServersGpus { get; set; } = "0";

        public string? ServersMemoryMiB { get; set; } = "1024";

        public string? Priority { get; set; } = "0";

        public string? TimeLimitMinutes { get; set; }

        /// <summary>What the form itself cannot read, by input name: an unclosed quote, a line that is not key=value.</summary>
        public Dictionary<string, string> Problems()
        {
            var problems = new Dictionary<string, string>();
            if (Runs is not ("module" or "image") && CommandLine.Split(Command).Error is { } command)
            {
                problems[nameof(Command)] = command;
            }

            if (CommandLine.Options(Options).Error is { } options)
            {
                problems[nameof(Options)] = options;
            }

            return problems;
        }

        public SubmitJobRequest ToRequest()
        {
            var runs = Runs ?? "command";
            var command = runs == "module" ? [] : CommandLine.Split(Command).Arguments;
            return new SubmitJobRequest(
                null, Name, Type,
                runs == "module" ? Blank(Module) : null,
                runs == "image" ? Blank(Image) : null,
                command,
                (Datasets ?? "").Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Blank(Code), Blank(OutputModel), CommandLine.Options(Options).Options,
                new ReplicaGroupRequest((int?)Whole(TrainersCount), Number(TrainersCpus), (int?)Whole(TrainersGpus), (int?)Whole(TrainersMemoryMiB)),
                new ReplicaGroupRequest((int?)Whole(ServersCount) ?? 0, Number(ServersCpus), (int?)Whole(ServersGpus), (int?)Whole(ServersMemoryMiB)),
                (int?)Whole(Priority), (int?)Whole(TimeLimitMinutes));
        }

        /// <summary>A form filled from an existing job, to clone with edits.</summary>
        public static JobInput From(JobResponse job)
        {
            var trainer = job.Replicas?.FirstOrDefault(r => r.Role == "trainer");
            var server = job.Replicas?.FirstOrDefault(r => r.Role == "pserver");
            static string N(double value) => value.ToString(CultureInfo.InvariantCulture);
            return new JobInput
            {
                Name = job.Name,
                Type = job.Type,
                Runs = job.Module is not null ? "module" : job.Image is not null ? "image" : "command",
                Command = job.Module is null ? CommandLine.Join(job.Command) : null,
                Module = job.Module,
                Image = job.Image,
                Datasets = string.Join('\n', job.Datasets),
                Code = job.Code,
                OutputModel = job.OutputModel,
                Options = string.Join('\n', job.Options.Select(o => $"{o.Key}={o.Value}")),
                TrainersCount = N(job.Trainers),
                TrainersCpus = trainer is null ? "1" : N(trainer.Cpus),
                TrainersGpus = trainer is null ? "0" : N(trainer.Gpus),
                TrainersMemoryMiB = trainer is null ? "1024" : N(trainer.MemoryMiB),
                ServersCount = N(job.ParameterServers),
                ServersCpus = server is null ? "1" : N(server.Cpus),
                ServersGpus = server is null ? "0" : N(server.Gpus),
                ServersMemoryMiB = server is null ? "1024" : N(server.MemoryMiB),
                Priority = N(job.Priority),
                TimeLimitMinutes = job.TimeLimitMinutes is { } limit ? N(limit) : null,
            };
        }

        private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

        // Unparseable numbers become -1, which Core refuses with its range message beside the field.
        private static double? Number(string? text) =>
            string.IsNullOrWhiteSpace(text) ? null : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : -1;

        private static long? Whole(string? text) =>
            string.IsNullOrWhiteSpace(text) ? null : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v <= int.MaxValue ? v : -1;
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Core.Catalog;

/// <summary>The outcome of a reload: the snapshot now current, and why the source could not be read when it could not.</summary>
public sealed record CatalogReloadResult(CatalogSnapshot Snapshot, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>The last reload that failed as a whole (git or the folder), while the previous snapshot stayed current.</summary>
public sealed record CatalogFailure(DateTimeOffset At, string Message);

/// <summary>
/// The module catalog of one process, loaded from a folder or a git repository (<see cref="CatalogOptions"/>).
/// Guarantees: <see cref="Current"/> is always a complete snapshot (swapped whole, never seen half-built); one broken
/// module is a <see cref="CatalogError"/> beside the modules that loaded; a reload whose source cannot be read keeps
/// the previous snapshot and says why (<see cref="LastFailure"/>); reloads in one process never overlap. Api, Web and
/// Workers each hold an instance: a reload bumps a generation in the database, and every instance that notices a
/// generation it has not loaded (checked at most every <see cref="CatalogOptions.SyncSeconds"/> when read) reloads too.
/// </summary>
public sealed class ModuleCatalog : IModuleCatalog, IDisposable
{
    public const string SourceErrorModule = "(source)";

    private readonly CatalogOptions _options;
    private readonly string? _contentRoot;
    private readonly ICatalogGenerationStore? _generations;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly GitCheckout? _git;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly Lock _firstLoad = new();
    private volatile CatalogSnapshot? _snapshot;
    private volatile CatalogFailure? _lastFailure;
    private volatile string? _seenGeneration;
    private long _nextSyncTicks;
    private int _syncing;

    /// <param name="contentRoot">Where the default folder is searched from first (then the binaries' folder).</param>
    /// <param name="dataDirectory">Parent of the git cache (<c>{dataDirectory}/catalog/...</c>); default: the temp folder.</param>
    /// <param name="generations">Where reloads are announced to the other processes; null: this process only.</param>
    /// <param name="applicationName">Keeps each process's clone apart, so two never run git in one folder.</param>
    public ModuleCatalog(CatalogOptions options, string? contentRoot = null, string? dataDirectory = null,
        ICatalogGenerationStore? generations = null, TimeProvider? clock = null, ILogger<ModuleCatalog>? logger = null,
        string applicationName = "platform")
    {
        _options = options;
        _contentRoot = contentRoot;
        _generations = generations;
        _clock = clock ?? TimeProvider.System;
        _logger = logger ?? NullLogger<ModuleCatalog>.Instance;
        if (!string.IsNullOrWhiteSpace(options.GitUrl))
        {
            var cache = options.CacheFolder is { Length: > 0 } configured
                ? Path.GetFullPath(configured, contentRoot ?? Environment.CurrentDirectory)
                : Path.Combine(dataDirectory ?? Path.Combine(Path.GetTempPath(), "platform"), "catalog", $"{Slug(applicationName)}-{Hash(options.GitUrl, options.GitBranch)}");
            _git = new GitCheckout(options.GitUrl, options.GitBranch, cache, TimeSpan.FromSeconds(Math.Max(1, options.GitTimeoutSeconds)));
        }
    }

    /// <summary>The catalog now: loaded on first use; may start a background check for another process's reload.</summary>
    public CatalogSnapshot Current
    {
        get
        {
            var snapshot = _snapshot;
            if (snapshot is null)
            {
                // The first read of the process waits for the first load; later reads never block.
                lock (_firstLoad)
                {
                    snapshot = _snapshot ?? Task.Run(() => EnsureLoadedAsync(CancellationToken.None)).GetAwaiter().GetResult();
                }
            }

            if (SyncDue() && Interlocked.CompareExchange(ref _syncing, 1, 0) == 0)
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await SyncAsync(CancellationToken.None);
                    }
                    catch (Exception e)
                    {
                        _logger.LogWarning(e, "Checking the catalog generation failed; the current catalog stays.");
                    }
                    finally
                    {
                        Volatile.Write(ref _syncing, 0);
                    }
                });
            }

            return snapshot;
        }
    }

    /// <summary>The last failed reload, until one succeeds.</summary>
    public CatalogFailure? LastFailure => _lastFailure;

    /// <summary>Where modules come from, as admins see it (a git URL without its credentials).</summary>
    public string SourceDescription => _git is null ? (ResolveFolderOrNull() ?? "Notebook/modules (not found)") : GitDescription();

    public ModuleManifest? Find(string name) => Current.Modules.FirstOrDefault(m => m.Name == name);

    /// <summary>The current snapshot for async callers: loads it on first use and first catches up with other processes' reloads when due.</summary>
    public async Task<CatalogSnapshot> GetAsync(CancellationToken ct = default)
    {
        var snapshot = await EnsureLoadedAsync(ct);
        if (SyncDue())
        {
            try
            {
                await SyncAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Checking the catalog generation failed; the current catalog stays.");
            }
        }

        return _snapshot ?? snapshot;
    }

    /// <summary>Reads the source again (git fetch, or the folder) and tells the other processes to do the same.</summary>
    public async Task<CatalogReloadResult> ReloadAsync(CancellationToken ct = default)
    {
        await _reloadLock.WaitAsync(ct);
        try
        {
            var result = await LoadAsync(ct);
            if (result.Succeeded && _generations is not null)
            {
                _seenGeneration = await _generations.BumpAsync(ct);
                ScheduleNextSync();
            }

            return result;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>Reloads when another process announced a reload this one has not loaded yet; true when it reloaded.</summary>
    public async Task<bool> SyncAsync(CancellationToken ct = default)
    {
        if (_generations is null)
        {
            return false;
        }

        ScheduleNextSync();
        var stored = await _generations.GetAsync(ct);
        if (stored == _seenGeneration)
        {
            return false;
        }

        await _reloadLock.WaitAsync(ct);
        try
        {
            if (stored == _seenGeneration)
            {
                return false;
            }

            _logger.LogInformation("The catalog was reloaded elsewhere (generation {Generation}); reloading here.", stored);
            if ((await LoadAsync(ct)).Succeeded)
            {
                _seenGeneration = stored;
            }

            return true;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private async Task<CatalogSnapshot> EnsureLoadedAsync(CancellationToken ct)
    {
        if (_snapshot is { } loaded)
        {
            return loaded;
        }

        await _reloadLock.WaitAsync(ct);
        try
        {
            if (_snapshot is { } raced)
            {
                return raced;
            }

            // The generation is read before the source: a reload announced in between is loaded again by the next sync.
            _seenGeneration = await GenerationOrNullAsync(ct);
            ScheduleNextSync();
            return (await LoadAsync(ct)).Snapshot;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>Builds a snapshot from the source; the caller holds the reload lock.</summary>
    private async Task<CatalogReloadResult> LoadAsync(CancellationToken ct)
    {
        try
        {
            string folder;
            if (_git is not null)
            {
                await _git.UpdateAsync(ct);
                folder = _git.Folder;
            }
            else
            {
                folder = ResolveFolderOrNull() ?? throw new CatalogSourceException(
                    _options.Folder is { Length: > 0 }
                        ? $"The catalog folder {Path.GetFullPath(_options.Folder, _contentRoot ?? Environment.CurrentDirectory)} does not exist."
                        : $"No Notebook/modules folder above {_contentRoot ?? AppContext.BaseDirectory}; set Platform:Catalog:Folder.");
            }

            var snapshot = await Task.Run(() => Read(folder, _git is null ? folder : GitDescription()), ct);
            _snapshot = snapshot;
            _lastFailure = null;
            _logger.LogInformation("Catalog loaded from {Source}: {Modules} modules, {Errors} errors.",
                snapshot.Source, snapshot.Modules.Count, snapshot.Errors.Count);
            return new CatalogReloadResult(snapshot, null);
        }
        catch (Exception e) when (e is CatalogSourceException or IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Catalog reload from {Source} failed: {Message}", SourceDescription, e.Message);
            _lastFailure = new CatalogFailure(_clock.GetUtcNow(), e.Message);
            // The very first load has nothing to keep: the source's error is the catalog's only content.
            _snapshot ??= new CatalogSnapshot([], [new CatalogError(SourceErrorModule, e.Message)], _clock.GetUtcNow(), SourceDescription);
            return new CatalogReloadResult(_snapshot, e.Message);
        }
    }

    private CatalogSnapshot Read(string folder, string source)
    {
        var modules = new List<ModuleManifest>();
        var errors = new List<CatalogError>();
        foreach (var directory in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(directory);
            if (name.StartsWith('.') || name == "__pycache__")
            {
                continue;
            }

            var (manifest, problems) = ModuleManifestReader.Read(directory);
            if (manifest is not null)
            {
                modules.Add(manifest);
            }

            errors.AddRange(problems.Select(p => new CatalogError(name, p)));
        }

        return new CatalogSnapshot(modules, errors, _clock.GetUtcNow(), source);
    }

    private string? ResolveFolderOrNull()
    {
        if (_options.Folder is { Length: > 0 } configured)
        {
            var full = Path.GetFullPath(configured, _contentRoot ?? Environment.CurrentDirectory);
            return Directory.Exists(full) ? full : null;
        }

        foreach (var start in new[] { _contentRoot, AppContext.BaseDirectory }.OfType<string>())
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "Notebook", "modules");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private async Task<string?> GenerationOrNullAsync(CancellationToken ct)
    {
        if (_generations is null)
        {
            return null;
        }

        try
        {
            return await _generations.GetAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Without the database this process still serves its own catalog; the next sync tries again.
            _logger.LogWarning(e, "Reading the catalog generation failed.");
            return null;
        }
    }

    private bool SyncDue() => _generations is not null && _clock.GetUtcNow().UtcTicks >= Interlocked.Read(ref _nextSyncTicks);

    private void ScheduleNextSync() =>
        Interlocked.Exchange(ref _nextSyncTicks, _clock.GetUtcNow().AddSeconds(Math.Max(0, _options.SyncSeconds)).UtcTicks);

    private string GitDescription()
    {
        var url = GitCheckout.Redact(_options.GitUrl!);
        return string.IsNullOrWhiteSpace(_options.GitBranch) ? $"git {url}" : $"git {url} ({_options.GitBranch})";
    }

    private static string Hash(string url, string? branch) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{url}\n{branch}")))[..12];

    private static string Slug(string name)
    {
        var slug = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return slug.Length == 0 ? "platform" : slug;
    }

    public void Dispose() => _reloadLock.Dispose();
}

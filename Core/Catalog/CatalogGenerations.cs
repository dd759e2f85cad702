using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Admin;

namespace Platform.Core.Catalog;

/// <summary>Where a reload is announced to every process that holds a catalog: an opaque value that changes on each reload.</summary>
public interface ICatalogGenerationStore
{
    /// <summary>The current generation; null when no reload was ever announced.</summary>
    Task<string?> GetAsync(CancellationToken ct);

    /// <summary>Sets a new generation and returns it.</summary>
    Task<string> BumpAsync(CancellationToken ct);
}

/// <summary>The generation as a platform setting in PostgreSQL, which every process already reads.</summary>
public sealed class SettingsCatalogGenerationStore(IServiceScopeFactory scopes) : ICatalogGenerationStore
{
    public async Task<string?> GetAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SettingsService>().GetCatalogGenerationAsync(ct);
    }

    public async Task<string> BumpAsync(CancellationToken ct)
    {
        var generation = Guid.NewGuid().ToString("N");
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SettingsService>().SetCatalogGenerationAsync(generation, ct);
        return generation;
    }
}

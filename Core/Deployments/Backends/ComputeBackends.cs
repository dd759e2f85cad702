namespace Platform.Core.Deployments.Backends;

/// <summary>
/// Every backend this process can drive, by name. New deployments take the configured one (<c>Compute:Backend</c>,
/// recorded in <see cref="Deployment.Backend"/> when they are created); a stored deployment is always driven by the
/// backend its row names, since its workload and workspace live there, whatever the configuration says today.
/// </summary>
public sealed class ComputeBackends
{
    private readonly Dictionary<string, IComputeBackend> _byName;

    public ComputeBackends(IEnumerable<IComputeBackend> backends, string defaultName)
    {
        _byName = backends.ToDictionary(b => b.Name, StringComparer.Ordinal);
        if (!_byName.ContainsKey(defaultName))
        {
            throw new InvalidOperationException(
                $"Compute:Backend '{defaultName}' is not a backend of this build; use one of: {string.Join(", ", _byName.Keys.Order())}.");
        }

        Default = _byName[defaultName];
    }

    /// <summary>The backend new deployments run on.</summary>
    public IComputeBackend Default { get; }

    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>The backend a deployment's row names; the default for a row that names none; null for an unknown name.</summary>
    public IComputeBackend? For(Deployment deployment) =>
        string.IsNullOrEmpty(deployment.Backend) ? Default : _byName.GetValueOrDefault(deployment.Backend);
}

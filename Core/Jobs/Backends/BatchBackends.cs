namespace Platform.Core.Jobs.Backends;

/// <summary>The batch backends of this build by name, and the one new jobs go to (<c>Compute:Backend</c>).</summary>
public sealed class BatchBackends
{
    private readonly Dictionary<string, IBatchBackend> _byName;

    public BatchBackends(IEnumerable<IBatchBackend> backends, string defaultName)
    {
        _byName = backends.ToDictionary(b => b.Name, StringComparer.Ordinal);
        if (!_byName.ContainsKey(defaultName))
        {
            throw new InvalidOperationException(
                $"Compute:Backend '{defaultName}' has no batch backend in this build; use one of: {string.Join(", ", _byName.Keys.Order())}.");
        }

        Default = _byName[defaultName];
    }

    /// <summary>The backend new jobs run on.</summary>
    public IBatchBackend Default { get; }

    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>The backend a job's row names; null for a name this build does not know.</summary>
    public IBatchBackend? For(Job job) => For(job.Backend);

    /// <summary>The backend of that name (<see cref="Job.Backend"/>); null for a name this build does not know.</summary>
    public IBatchBackend? For(string name) => _byName.GetValueOrDefault(name);
}

using System.Collections.Concurrent;
using Npgsql;
using Platform.Core.Deployments;

namespace Platform.Workers.Tests.Deployments;

/// <summary>The reconciler tells listeners (Api's live relay) about every transition it records, not only users' changes.</summary>
[Trait("Category", "Slow")]
public sealed class DeploymentNotificationTests : IDisposable
{
    private readonly string _workspaces = Path.Combine(Path.GetTempPath(), $"platform-ws-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_workspaces))
        {
            Directory.Delete(_workspaces, recursive: true);
        }
    }

    [Fact]
    public async Task EveryTransition_IsFollowedByANotify_OnTheDeploymentsChannel()
    {
        var database = await DeploymentHost.NewDatabaseAsync("notify");
        var heard = new ConcurrentQueue<(string Payload, ObservedState Observed)>();
        await using var listener = new NpgsqlConnection(database);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand($"LISTEN {DeploymentService.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await using var host = new DeploymentHost(database, _workspaces);
        _ = host.Server;
        var userId = await host.CreateUserAsync("nia");
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId,
            new CreateDeploymentRequest(null, "echo-api", "Echo", null, "api", null, null, null, null, null, null, null, null)))).Value!.Id;

        // What each notification found in the row when it arrived: the states a page following them would show.
        listener.Notification += (_, e) => heard.Enqueue((e.Payload, host.RowAsync(Guid.Parse(e.Payload)).GetAwaiter().GetResult().Observed));
        using var listening = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var waiting = Task.Run(async () =>
        {
            while (!heard.Any(h => h.Observed == ObservedState.Stopped))
            {
                await listener.WaitAsync(listening.Token);
            }
        });

        await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        await waiting;

        Assert.All(heard, h => Assert.Equal(id.ToString(), h.Payload));
        var seen = heard.Select(h => h.Observed).Distinct().ToList();
        // Users' changes notify too, but only the reconciler writes these two states.
        Assert.Contains(ObservedState.Starting, seen);
        Assert.Contains(ObservedState.Stopped, seen);
    }
}

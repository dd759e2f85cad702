using Platform.AppHost.Database;
using Platform.AppHost.Hosting;
using Platform.AppHost.Services;
using Platform.AppHost.Storage;

// The inventory: what starts, in what order, wired how. The machinery lives in the area folders; the frame
// (options, signals, supervision, the orderly stop on Ctrl+C) in Hosting/Launcher.cs.
return await Launcher.RunAsync(args, async (launch, ct) =>
{
    // Fail before starting anything when a service is not built or Web's fixed port is taken.
    var services = ServicePlan.Prepare(launch.Options, launch.Output, launch.Ports);

    // 1. PostgreSQL: ConnectionStrings:platformdb when given, else the private cluster in the data folder.
    //    EF Core prepares the migrations meanwhile, off the critical path.
    var migrationsWarmUp = PlatformDatabase.WarmUpMigrationsAsync();
    var database = await PlatformDatabase.ProvideAsync(launch, ct);

    // 2. Object storage: ConnectionStrings:objectstore when given, else <data dir>/objects.
    var objectStore = await ObjectStorage.PrepareAsync(launch.Options, launch.Output, ct);

    // 3. Migrations, once, before any service can touch the schema; then the shared data-protection key ring.
    await PlatformDatabase.MigrateAsync(database, migrationsWarmUp, launch.Output, ct);
    // Counted while the services start (nobody can register before Web is up): for the first-admin hint.
    var users = PlatformDatabase.CountUsersAsync(database, ct);

    // 4. The services, together: none needs another to start (the shared key ring was made with the schema),
    //    each waited for until its /health answers 200.
    var wiring = services.Wire(database, objectStore);
    await Task.WhenAll(
        launch.StartServiceAsync(wiring.Api, ct),
        launch.StartServiceAsync(wiring.Workers, ct),
        launch.StartServiceAsync(wiring.Web, ct));

    launch.AnnounceReady(services.PublicUrl, await users);
});

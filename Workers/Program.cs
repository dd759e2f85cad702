using Platform.Core;
using Platform.Workers.Datasets;
using Platform.Workers.Deployments;
using Platform.Workers.Jobs;
using Platform.Workers.Mail;
using Platform.Workers.Sampling;
using Platform.Workers.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddPlatformCore(builder.Configuration);
builder.Services.AddHostedService<HeartbeatService>();
builder.Services.AddHostedService<OutboxDispatcher>();
builder.Services.AddHostedService<OrphanSweepService>();
builder.Services.AddHostedService<UploadExpiryService>();
builder.Services.AddDeploymentReconciler(builder.Configuration);
builder.Services.AddJobLogShipper(builder.Configuration);
builder.Services.AddJobReconciler(builder.Configuration);
builder.Services.AddJobScheduler(builder.Configuration);
builder.Services.AddUsageAccounting(builder.Configuration);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

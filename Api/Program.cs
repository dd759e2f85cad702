using Platform.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApiServices();

var app = builder.Build();
app.UseApiPipeline();
app.MapDefaultEndpoints();
app.MapApiEndpoints();
app.Run();

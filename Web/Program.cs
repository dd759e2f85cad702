using Platform.Web.FrontDoor;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddFrontDoor(builder.Configuration);

var app = builder.Build();
app.UseWebSockets();
app.MapDefaultEndpoints();
app.MapFrontDoor();
app.Run();

namespace Platform.Web.Navigation;

/// <summary>Matches only the slugs of <see cref="PlatformAreas.All"/>, so /{area} never swallows other addresses.</summary>
public sealed class PlatformAreaRouteConstraint : IRouteConstraint
{
    public const string Name = "platformarea";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        values.TryGetValue(routeKey, out var value)
        && PlatformAreas.FindComing(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)) is not null;
}

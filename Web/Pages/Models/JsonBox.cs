using System.Text.Json;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Platform.Web.Pages.Models;

/// <summary>A text box holding JSON (metrics, schemas), read into what <see cref="Core.Models.ModelService"/> takes.</summary>
internal static class JsonBox
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    /// <summary>
    /// Blank is "not given" (a default element), or JSON null when <paramref name="blankClears"/> (an edit form sends every
    /// box, so an emptied one means clear it). Text that does not parse is an error beside the box.
    /// </summary>
    public static JsonElement Parse(ModelStateDictionary modelState, string key, string? text, bool blankClears)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return blankClears ? Null : default;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            modelState.AddModelError(key, $"Not valid JSON: {ex.Message}");
            return default;
        }
    }

    /// <summary>Shows stored JSON in a box, indented.</summary>
    public static string? Show(JsonElement? value) =>
        value is { } element ? JsonSerializer.Serialize(element, Indented) : null;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

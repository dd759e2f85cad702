using System.Reflection;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Platform.Core.Common;

namespace Platform.Web.Extensions;

public static class ModelStateExtensions
{
    /// <summary>
    /// Puts a Core <see cref="Error"/> where the form shows it: each field message beside the input it names
    /// (Core's "email" is <c>Input.Email</c> on a form bound to <typeparamref name="TInput"/> under <paramref name="prefix"/>),
    /// and anything that belongs to no input, including the error's own message, at page level (key "").
    /// </summary>
    /// <param name="aliases">Core field name to input property, where they differ (Core "password" is a form's NewPassword).</param>
    public static void AddError<TInput>(
        this ModelStateDictionary modelState, Error error, string prefix = "Input", IReadOnlyDictionary<string, string>? aliases = null)
    {
        var besideAField = false;
        foreach (var (field, messages) in error.Fields ?? new Dictionary<string, string[]>())
        {
            var name = aliases is not null && aliases.TryGetValue(field, out var alias) ? alias : field;
            // "datasets[1]" goes beside the field holding the list.
            name = name.Split('[')[0];
            var property = string.IsNullOrEmpty(name)
                ? null
                : typeof(TInput).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            var key = property is null ? "" : $"{prefix}.{property.Name}";
            besideAField |= property is not null;
            foreach (var message in messages)
            {
                AddOnce(modelState, key, message);
            }
        }

        // "One or more fields are invalid" says nothing the fields do not; every other message is worth a line.
        if (!(error.Kind == ErrorKind.Validation && besideAField))
        {
            AddOnce(modelState, "", error.Message);
        }
    }

    private static void AddOnce(ModelStateDictionary modelState, string key, string message)
    {
        if (modelState.TryGetValue(key, out var entry) && entry.Errors.Any(e => e.ErrorMessage == message))
        {
            return;
        }

        modelState.AddModelError(key, message);
    }
}

namespace PeopleEnrich.Hosting;

public static class DefaultAddress
{
    /// <summary>Listens on <paramref name="url"/> unless --urls, ASPNETCORE_URLS or the Urls setting says otherwise.</summary>
    public static WebApplicationBuilder UseDefaultAddress(this WebApplicationBuilder builder, string url)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(url);
        }

        return builder;
    }
}

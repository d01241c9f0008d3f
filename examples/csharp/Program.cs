// SecureKey quickstart in C# (.NET 8, HttpClient): the seed's flow — an SMS code, an email code,
// an authenticator app (TOTP), a passkey's registration options, a push approval — over the JSON API.
//   SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... dotnet run
using System.Net.Http.Json;
using System.Text.Json;

string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

var apiKey = Env("SECUREKEY_API_KEY", "");
if (apiKey == "")
{
    Console.Error.WriteLine("Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).");
    return 2;
}
var phone = Env("SECUREKEY_PHONE", "01012345678");
var email = Env("SECUREKEY_EMAIL", "user@example.com");
var userId = Env("SECUREKEY_USER_ID", "user_123");

using var client = new HttpClient { BaseAddress = new Uri(Env("SECUREKEY_URL", "http://localhost:8080")) };
client.DefaultRequestHeaders.Add("X-API-Key", apiKey);

// POST a JSON body; returns the answer's data, or throws with the SecureKey error.
async Task<JsonElement> Post(string path, object body)
{
    var response = await client.PostAsJsonAsync("/api/v1" + path, body);
    var json = await response.Content.ReadFromJsonAsync<JsonElement>();
    if (!json.GetProperty("success").GetBoolean())
        throw new Exception($"{json.GetProperty("code").GetString()}: {json.GetProperty("error").GetString()} (HTTP {(int)response.StatusCode})");
    return json.GetProperty("data");
}

string Ask(string prompt)
{
    Console.Write(prompt);
    return (Console.ReadLine() ?? "").Trim();
}

string Bool(JsonElement data) => data.GetProperty("verified").GetBoolean() ? "true" : "false";

try
{
    // SMS: send, then verify the code the user typed.
    var result = await Post("/otp/send", new { phone, purpose = "login" });
    var code = Ask($"SMS code sent to {result.GetProperty("to").GetString()}. Code: ");
    Console.WriteLine("sms verified: " + Bool(await Post("/otp/verify", new { phone, code })));

    // Email: the same with an address.
    result = await Post("/email-otp/send", new { email, purpose = "login" });
    code = Ask($"Email code sent to {result.GetProperty("to").GetString()}. Code: ");
    Console.WriteLine("email verified: " + Bool(await Post("/email-otp/verify", new { email, code })));

    // TOTP: enroll (show qrCodeDataUrl as an image, or the URI), then confirm a code from the app.
    var setup = await Post("/totp/setup", new { userId, issuer = "MyApp", accountName = email });
    Console.WriteLine($"Add to an authenticator app: {setup.GetProperty("uri").GetString()}");
    var token = Ask("Code from the app: ");
    Console.WriteLine("totp verified: " + Bool(await Post("/totp/verify", new { userId, token })));

    // Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
    var options = (await Post("/webauthn/register/options", new { userId, userName = email })).GetProperty("publicKey");
    Console.WriteLine($"passkey options for {options.GetProperty("rp").GetProperty("id").GetString()}: challenge {options.GetProperty("challenge").GetString()}");

    // Push: register the user's phone, send a request, poll its outcome.
    await Post("/push/devices", new { userId, fcmToken = "fcm_token", platform = "android" });
    var push = await Post("/push/send", new { userId, title = "로그인 승인 요청" });
    var requestId = push.GetProperty("requestId").GetString();
    Ask($"Push sent (request {requestId}). Approve it on the phone, then press Enter: ");
    Console.WriteLine("push verified: " + Bool(await Post("/push/verify", new { requestId, userId })));
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

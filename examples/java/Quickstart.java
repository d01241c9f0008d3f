// SecureKey quickstart in Java 11+ with java.net.http (no dependencies): the seed's flow — an SMS
// code, an email code, a passkey's registration options, a push approval — over the JSON API.
//   SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... java Quickstart.java
// (A real application would parse the JSON with a library such as Gson, as in the seed.)
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Quickstart {
    static final String BASE_URL = env("SECUREKEY_URL", "http://localhost:8080") + "/api/v1";
    static final String API_KEY = env("SECUREKEY_API_KEY", "");
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    static final BufferedReader STDIN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }

    /** POST a JSON body; returns the response body, or exits with the SecureKey error. */
    static String post(String path, String json) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(BASE_URL + path))
            .header("X-API-Key", API_KEY)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
            .build();
        HttpResponse<String> res = CLIENT.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (res.statusCode() != 200) {
            System.err.println(field(res.body(), "code") + ": " + field(res.body(), "error") + " (HTTP " + res.statusCode() + ")");
            System.exit(1);
        }
        return res.body();
    }

    /** The first "name": value in a JSON text (a string's content, or a literal such as true). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([\\w.-]+))").matcher(json);
        return m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : "";
    }

    static String ask(String prompt) throws Exception {
        System.out.print(prompt);
        System.out.flush();
        String line = STDIN.readLine();
        return line == null ? "" : line.trim();
    }

    public static void main(String[] args) throws Exception {
        if (API_KEY.isEmpty()) {
            System.err.println("Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).");
            System.exit(2);
        }
        String phone = env("SECUREKEY_PHONE", "01012345678");
        String email = env("SECUREKEY_EMAIL", "user@example.com");
        String userId = env("SECUREKEY_USER_ID", "user_123");

        // SMS: send, then verify the code the user typed.
        String sent = post("/otp/send", "{\"phone\":\"" + phone + "\",\"purpose\":\"login\"}");
        String code = ask("SMS code sent to " + field(sent, "to") + ". Code: ");
        String verified = post("/otp/verify", "{\"phone\":\"" + phone + "\",\"code\":\"" + code + "\"}");
        System.out.println("sms verified: " + field(verified, "verified"));

        // Email: the same with an address.
        sent = post("/email-otp/send", "{\"email\":\"" + email + "\",\"purpose\":\"login\"}");
        code = ask("Email code sent to " + field(sent, "to") + ". Code: ");
        verified = post("/email-otp/verify", "{\"email\":\"" + email + "\",\"code\":\"" + code + "\"}");
        System.out.println("email verified: " + field(verified, "verified"));

        // Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
        String options = post("/webauthn/register/options", "{\"userId\":\"" + userId + "\",\"userName\":\"" + email + "\"}");
        Matcher rp = Pattern.compile("\"rp\":\\{[^}]*\"id\":\"([^\"]+)\"").matcher(options);
        System.out.println("passkey options for " + (rp.find() ? rp.group(1) : "?") + ": challenge " + field(options, "challenge"));

        // Push: register the user's phone, send a request, poll its outcome.
        post("/push/devices", "{\"userId\":\"" + userId + "\",\"fcmToken\":\"token\",\"platform\":\"android\"}");
        String push = post("/push/send", "{\"userId\":\"" + userId + "\",\"title\":\"로그인 승인 요청\"}");
        String requestId = field(push, "requestId");
        ask("Push sent (request " + requestId + "). Approve it on the phone, then press Enter: ");
        String result = post("/push/verify", "{\"requestId\":\"" + requestId + "\",\"userId\":\"" + userId + "\"}");
        System.out.println("push verified: " + field(result, "verified"));
    }
}

// SecureKey quickstart in Go with net/http (standard library only): the seed's flow — an SMS
// code, an email code, a passkey's registration options, a push approval — over the JSON API.
//
//	SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... go run .
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

var (
	baseURL = env("SECUREKEY_URL", "http://localhost:8080") + "/api/v1"
	apiKey  = os.Getenv("SECUREKEY_API_KEY")
	stdin   = bufio.NewReader(os.Stdin)
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// envelope is every SecureKey answer: {success, message, data} or {success, error, code}.
type envelope struct {
	Success bool                   `json:"success"`
	Data    map[string]interface{} `json:"data"`
	Error   string                 `json:"error"`
	Code    string                 `json:"code"`
}

// post sends a JSON body and returns the answer's data, or exits with the SecureKey error.
func post(path string, body map[string]interface{}) map[string]interface{} {
	payload, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", baseURL+path, bytes.NewBuffer(payload))
	req.Header.Set("X-API-Key", apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "could not reach SecureKey:", err)
		os.Exit(1)
	}
	defer res.Body.Close()
	var env envelope
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || !env.Success {
		fmt.Fprintf(os.Stderr, "%s: %s (HTTP %d)\n", env.Code, env.Error, res.StatusCode)
		os.Exit(1)
	}
	return env.Data
}

func ask(prompt string) string {
	fmt.Print(prompt)
	line, _ := stdin.ReadString('\n')
	return strings.TrimSpace(line)
}

func main() {
	if apiKey == "" {
		fmt.Fprintln(os.Stderr, "Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).")
		os.Exit(2)
	}
	phone := env("SECUREKEY_PHONE", "01012345678")
	email := env("SECUREKEY_EMAIL", "user@example.com")
	userID := env("SECUREKEY_USER_ID", "user_123")

	// SMS: send, then verify the code the user typed.
	sent := post("/otp/send", map[string]interface{}{"phone": phone, "purpose": "login"})
	code := ask(fmt.Sprintf("SMS code sent to %v. Code: ", sent["to"]))
	verified := post("/otp/verify", map[string]interface{}{"phone": phone, "code": code})
	fmt.Println("sms verified:", verified["verified"])

	// Email: the same with an address.
	sent = post("/email-otp/send", map[string]interface{}{"email": email, "purpose": "login"})
	code = ask(fmt.Sprintf("Email code sent to %v. Code: ", sent["to"]))
	verified = post("/email-otp/verify", map[string]interface{}{"email": email, "code": code})
	fmt.Println("email verified:", verified["verified"])

	// Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
	options := post("/webauthn/register/options", map[string]interface{}{"userId": userID, "userName": email})
	publicKey := options["publicKey"].(map[string]interface{})
	rp := publicKey["rp"].(map[string]interface{})
	fmt.Printf("passkey options for %v: challenge %v\n", rp["id"], publicKey["challenge"])

	// Push: register the user's phone, send a request, poll its outcome.
	post("/push/devices", map[string]interface{}{"userId": userID, "fcmToken": "fcm_token", "platform": "android"})
	push := post("/push/send", map[string]interface{}{"userId": userID, "title": "로그인 승인 요청"})
	ask(fmt.Sprintf("Push sent (request %v). Approve it on the phone, then press Enter: ", push["requestId"]))
	result := post("/push/verify", map[string]interface{}{"requestId": push["requestId"], "userId": userID})
	fmt.Println("push verified:", result["verified"])
}

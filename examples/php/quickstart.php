<?php
// SecureKey quickstart in PHP with curl: the seed's flow — an SMS code, an email code, a passkey's
// registration options, a push approval — over the JSON API.
//   SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... php quickstart.php

$baseUrl = (getenv('SECUREKEY_URL') ?: 'http://localhost:8080') . '/api/v1';
$apiKey = getenv('SECUREKEY_API_KEY') ?: '';
if ($apiKey === '') {
    fwrite(STDERR, "Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).\n");
    exit(2);
}
$phone = getenv('SECUREKEY_PHONE') ?: '01012345678';
$email = getenv('SECUREKEY_EMAIL') ?: 'user@example.com';
$userId = getenv('SECUREKEY_USER_ID') ?: 'user_123';

/** POST a JSON body; returns the answer's data, or exits with the SecureKey error. */
function securekeyPost($path, $data) {
    global $baseUrl, $apiKey;
    $ch = curl_init($baseUrl . $path);
    curl_setopt_array($ch, [
        CURLOPT_POST => true,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_HTTPHEADER => [
            'Content-Type: application/json',
            'X-API-Key: ' . $apiKey,
        ],
        CURLOPT_POSTFIELDS => json_encode($data),
    ]);
    $response = curl_exec($ch);
    if ($response === false) {
        fwrite(STDERR, 'could not reach SecureKey: ' . curl_error($ch) . "\n");
        exit(1);
    }
    curl_close($ch);
    $json = json_decode($response, true);
    if (!is_array($json) || empty($json['success'])) {
        fwrite(STDERR, ($json['code'] ?? 'ERROR') . ': ' . ($json['error'] ?? $response) . "\n");
        exit(1);
    }
    return $json['data'];
}

function ask($prompt) {
    echo $prompt;
    fflush(STDOUT);
    return trim((string) fgets(STDIN));
}

$bool = fn($v) => $v ? 'true' : 'false';

// SMS: send, then verify the code the user typed.
$result = securekeyPost('/otp/send', ['phone' => $phone, 'purpose' => 'login']);
$code = ask("SMS code sent to {$result['to']}. Code: ");
$verify = securekeyPost('/otp/verify', ['phone' => $phone, 'code' => $code]);
echo 'sms verified: ' . $bool($verify['verified']) . "\n";

// Email: the same with an address.
$result = securekeyPost('/email-otp/send', ['email' => $email, 'purpose' => 'login']);
$code = ask("Email code sent to {$result['to']}. Code: ");
$verify = securekeyPost('/email-otp/verify', ['email' => $email, 'code' => $code]);
echo 'email verified: ' . $bool($verify['verified']) . "\n";

// Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
$regOptions = securekeyPost('/webauthn/register/options', ['userId' => $userId, 'userName' => $email]);
echo "passkey options for {$regOptions['publicKey']['rp']['id']}: challenge {$regOptions['publicKey']['challenge']}\n";

// Push: register the user's phone, send a request, poll its outcome.
securekeyPost('/push/devices', ['userId' => $userId, 'fcmToken' => 'fcm_token_from_firebase', 'platform' => 'android']);
$push = securekeyPost('/push/send', ['userId' => $userId, 'title' => '로그인 승인 요청', 'body' => '새로운 기기에서 로그인을 시도합니다.']);
$requestId = $push['requestId'];
ask("Push sent (request {$requestId}). Approve it on the phone, then press Enter: ");
$result = securekeyPost('/push/verify', ['userId' => $userId, 'requestId' => $requestId]);
echo 'push verified: ' . $bool($result['verified']) . "\n";

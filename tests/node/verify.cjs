// Verifies one delivery with the npm `standardwebhooks` library, an implementation independent of ours.
// stdin: {"secrets": ["whsec_..."], "headers": {...}, "body_base64": "..."}; stdout: the index of the first
// secret that verified, or -1. Exit 0 either way; anything else (bad input) exits 2.
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const body = Buffer.from(request.body_base64, "base64").toString("utf8");
  let verified = -1;
  request.secrets.forEach((secret, index) => {
    if (verified !== -1) return;
    try {
      new Webhook(secret).verify(body, request.headers);
      verified = index;
    } catch (error) {
      if (error.name !== "WebhookVerificationError") throw error;
    }
  });
  process.stdout.write(String(verified) + "\n");
});

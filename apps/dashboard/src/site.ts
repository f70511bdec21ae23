/** The public welcome page. The full site, demo chat and dashboard come with their own work. */
export function welcomePage(): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Concierge · every customer message, answered</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:17px/1.5 system-ui,sans-serif;color:#14213d;background:#fafaf7}
  main{max-width:720px;margin:0 auto;padding:48px 20px} h1{font-size:clamp(28px,6vw,44px);line-height:1.15;margin:0 0 16px}
  p{margin:0 0 16px} ul{padding-left:20px}
</style></head>
<body><main>
<h1>Every customer message, answered.</h1>
<p>Concierge takes in the WhatsApp, Instagram and email messages your business receives, answers them
with your own canned replies or an AI in your voice, and hands the rest to your team in one Discord inbox.</p>
<ul><li>Reply rules per channel: keywords or intent, canned text or AI.</li>
<li>A human takes over whenever a customer needs one.</li>
<li>Prepaid credits: you pay only for AI replies.</li></ul>
</main></body></html>`;
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
      "referrer-policy": "strict-origin-when-cross-origin",
    },
  });
}

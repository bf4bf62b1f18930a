// Runs only in browsers without module scripts, so too old for the app's
// wasm: show index.html's static "update KakaoTalk" message. ES5 on purpose,
// and a file of its own so that no minifier rewrites it into newer syntax.
document.documentElement.className += ' no-wasm';

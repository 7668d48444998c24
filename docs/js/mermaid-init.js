// Draws the site's Mermaid blocks (Markdown turns ```mermaid into <pre><code class="language-mermaid">)
// with the Mermaid the site serves itself (js/mermaid.min.js, pinned by `cargo xtask docs`).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("pre > code.language-mermaid").forEach(function (code) {
    var picture = document.createElement("div");
    picture.className = "mermaid";
    picture.textContent = code.textContent;
    code.parentElement.replaceWith(picture);
  });
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  mermaid.run({ querySelector: ".mermaid" });
});

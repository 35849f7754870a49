// Placeholder until the view lands.
export default { render({ el }) { el.textContent = "not built yet"; } };

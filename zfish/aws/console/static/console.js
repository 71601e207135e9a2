// zfish console: Ctrl-Enter runs the editor's query; a page that shows something
// running (a crawler, a query, a job run) reloads itself every second until it is done.
document.addEventListener("DOMContentLoaded", () => {
  const sql = document.getElementById("sql");
  if (sql) {
    sql.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        sql.form.requestSubmit();
      }
    });
  }
  const refresh = document.querySelector('meta[name="zfish-refresh"]');
  if (refresh) {
    setTimeout(() => window.location.reload(), 1000 * Number(refresh.content));
  }
});

// The live preview of Settings → Widget: adds the widget's script tag with the widget key from
// this page's address (?key=wk_…), as a page of the customer's site would carry it.
(function () {
  var key = new URLSearchParams(location.search).get('key') || '';
  var note = document.getElementById('preview-note');
  if (!/^wk_[A-Za-z0-9_-]+$/.test(key)) {
    if (note) note.textContent = 'No widget key in the address: open this page from Settings → Widget.';
    return;
  }
  var tag = document.createElement('script');
  tag.src = '/widget.js';
  tag.async = true;
  tag.setAttribute('data-widget-key', key);
  document.body.appendChild(tag);
})();

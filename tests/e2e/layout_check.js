// What the layout walk calls "cut": returned as a list of {where, text, kind}.
// Run by tests/e2e/test_layout.py with page.evaluate(); it reads the live DOM and the data grids' canvases.
() => {
  const cuts = [];
  const name = (el) => {
    // the closest Streamlit widget key (st-key-<key>) and test id name the element for the allow-list
    const keyed = el.closest('[class*="st-key-"]');
    const key = keyed ? [...keyed.classList].find((c) => c.startsWith('st-key-')).slice(7) : '';
    const tid = el.closest('[data-testid]');
    return [key, tid ? tid.getAttribute('data-testid') : el.tagName.toLowerCase()].filter(Boolean).join(' ');
  };
  const visible = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const skip = '[data-testid="stDataFrame"], .js-plotly-plot, svg, [data-testid="stCode"], pre, iframe, '
    + '[data-testid="stSkipToContent"], [data-testid="stTooltipContent"], [data-baseweb="popover"]';

  // 1. DOM text: an element that clips (overflow hidden/clip, or an ellipsis) while a text node inside runs
  //    past its box. Comparing the text's own rectangles with the box ignores containers that merely have
  //    scrollWidth > clientWidth because of margins or icons.
  for (const el of document.querySelectorAll('[data-testid="stApp"] *')) {
    if (el.closest(skip)) continue;
    if (el.tagName === 'INPUT') {  // a selectbox / text box whose value is longer than the box
      if (['text', 'search', 'number', ''].includes(el.type) && el.value && visible(el)
          && el.scrollWidth > el.clientWidth + 1) {
        cuts.push({where: name(el), text: el.value.slice(0, 160), kind: 'input'});
      }
      continue;
    }
    if (el.scrollWidth <= el.clientWidth + 1 || !visible(el)) continue;
    const cs = getComputedStyle(el);
    if (!(['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis')) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;  // visually hidden (screen-reader only) text
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let node, cut = false;
    while (!cut && (node = walker.nextNode())) {
      if (!node.textContent.trim() || !visible(node.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      cut = [...range.getClientRects()].some((r) => r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1));
    }
    if (cut) cuts.push({where: name(el), text: (el.innerText || el.textContent).trim().slice(0, 160), kind: 'text'});
  }

  // 2. Data grids (glide-data-grid) draw cells on a canvas, so the DOM cannot tell. Glide pads every cell by
  //    --gdg-cell-horizontal-padding (8 px) and clips what does not fit, so text that fits never has ink within
  //    2 px of a column line; cut text (left-aligned or right-aligned numbers) does. Column lines are found in
  //    the header's top rows, where only the grid lines are drawn.
  const hex = (s) => { s = s.trim().replace('#', ''); return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16)); };
  for (const canvas of document.querySelectorAll('[data-testid="stDataFrame"] canvas[data-testid="data-grid-canvas"]')) {
    if (!visible(canvas) || !canvas.width || !canvas.height) continue;
    const theme = getComputedStyle(canvas.closest('.stDataFrameGlideDataEditor') || canvas);
    const line = hex(theme.getPropertyValue('--gdg-border-color') || '#E8E5E2');
    const W = canvas.width, H = canvas.height, scale = W / canvas.clientWidth;
    const img = canvas.getContext('2d').getImageData(0, 0, W, H).data;
    const px = (x, y) => { const i = 4 * (y * W + x); return [img[i], img[i + 1], img[i + 2]]; };
    const lum = (c) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    const isLine = (c) => Math.abs(c[0] - line[0]) + Math.abs(c[1] - line[1]) + Math.abs(c[2] - line[2]) < 12;
    const y0 = Math.round(3 * scale);
    const edges = [0];
    for (let x = 1; x < W - 1; x++) if (isLine(px(x, y0)) && !isLine(px(x - 1, y0))) edges.push(x);
    edges.push(W - 1);
    const heads = [...canvas.querySelectorAll('th')].map((th) => th.textContent);
    const gridName = `${name(canvas)} grid[${heads.slice(0, 3).join(',')}${heads.length > 3 ? ',…' : ''}]`;
    const rows = [...canvas.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    const rowH = 35 * scale;  // Streamlit's default row height; the header is row 0
    // A grid whose columns are wider than its box hides columns off to the right. Only a table of a person's
    // rows may (ui/tables.py gives it a key starting tbl_scroll_); its last, partly shown column is not a cut.
    const grid = canvas.closest('[data-testid="stDataFrame"]');
    const scroller = grid.querySelector('.dvn-scroller');
    const scrolls = scroller && scroller.scrollWidth > scroller.clientWidth + 1;
    const mayScroll = !!canvas.closest('[class*="st-key-tbl_scroll_"]');
    if (scrolls && !mayScroll) {
      const all = canvas.querySelector('table')?.getAttribute('aria-colcount') || '?';
      cuts.push({where: gridName, kind: 'grid',
                 text: `wider than its box (${scroller.scrollWidth}px > ${scroller.clientWidth}px): ${heads.length} of ${all} columns in view`});
    }
    for (let j = 0; j + 1 < edges.length; j++) {
      const a = edges[j], b = edges[j + 1];
      if (b - a < 8 || (scrolls && b === W - 1)) continue;  // the partly shown last column is reported above
      let hit = -1;
      for (let y = y0; y < H - 2 && hit < 0; y++) {
        for (const x of [a + 1, a + 2, b - 2, b - 1]) if (lum(px(x, y)) < 150) { hit = y; break; }
      }
      if (hit < 0) continue;
      const r = Math.floor(hit / rowH);
      const text = r === 0 ? heads[j] : (rows[r - 1] || [])[j];
      cuts.push({where: gridName, text: `column ${heads[j] || j + 1}: ${text ?? '?'}`.slice(0, 160), kind: 'grid'});
    }
  }
  return cuts;
}

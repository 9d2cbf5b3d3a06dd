// Line icons drawn from a few SVG paths (24 × 24), decorative: the words beside them carry meaning.
const PATHS = {
  home: 'M4 11l8-7 8 7M6 9.5V20h12V9.5M10 20v-5h4v5',
  visits: 'M5 5h14v15H5zM5 9h14M9 3v4M15 3v4M8.5 13h2M13.5 13h2M8.5 16.5h2',
  reports: 'M7 3h7l4 4v14H7zM14 3v4h4M10 12h5M10 15.5h5',
  team: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3.5 20c.5-3.5 2.7-5.5 5.5-5.5s5 2 5.5 5.5M16 11a2.5 2.5 0 1 0 0-5M17 14.5c2 .4 3.2 2.2 3.5 5.5',
  admin: 'M4 7h8M16 7h4M16 7a2 2 0 1 1-4 0 2 2 0 0 1 4 0M4 17h2M10 17h10M10 17a2 2 0 1 1-4 0 2 2 0 0 1 4 0',
  me: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 21c.6-4 3.6-6.5 7.5-6.5s6.9 2.5 7.5 6.5',
  pin: 'M12 21s-6.5-6.2-6.5-11a6.5 6.5 0 0 1 13 0c0 4.8-6.5 11-6.5 11zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z',
  exit: 'M12 21s-6.5-6.2-6.5-11a6.5 6.5 0 0 1 13 0c0 4.8-6.5 11-6.5 11zM9.5 10h5',
};

const NS = 'http://www.w3.org/2000/svg';

export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.append(path);
  return svg;
}

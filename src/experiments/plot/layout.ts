/** The frame the single-figure commands share (`gmoe select`, `gmoe predict`): size, bold title over a subtitle, font, white paper. */
export function titledLayout(o: {
  width: number;
  height: number;
  title: string;
  subtitle: string;
  margin: { l: number; r: number; t: number; b: number };
}): Record<string, unknown> {
  return {
    width: o.width,
    height: o.height,
    title: {
      // no empty second line under a figure drawn without a subtitle
      text: `<b>${o.title}</b>${o.subtitle === '' ? '' : `<br><span style="font-size:13px">${o.subtitle}</span>`}`,
      x: 0.02,
      xanchor: 'left',
    },
    font: { family: 'DejaVu Sans, Open Sans, Arial, sans-serif', size: 14 },
    margin: o.margin,
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
  };
}

// echarts.js - the only ECharts parts the dashboard uses (pie, line,
// tooltip, legend, grid, mark lines, canvas renderer): keeps the bundle small.
import * as echarts from 'echarts/core'
import { PieChart, LineChart } from 'echarts/charts'
import { TooltipComponent, LegendComponent, GridComponent, MarkLineComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([PieChart, LineChart, TooltipComponent, LegendComponent, GridComponent, MarkLineComponent, CanvasRenderer])

// Okabe-Ito palette: distinguishable with the common colour-vision
// deficiencies; grey is reserved for "Others".
export const PALETTE = [
  '#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7',
  '#56B4E9', '#F0E442', '#000000', '#8C564B', '#7F3C8D'
]
export const OTHERS_COLOR = '#9E9E9E'

export default echarts

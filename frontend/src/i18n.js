// i18n.js - the UI's words in English and Spanish, and a tiny t() that
// reads the current language.  The choice is kept in localStorage so a
// reload keeps it.  Keys are flat strings; {name} placeholders.
import { ref } from 'vue'

const MESSAGES = {
  en: {
    'app.title': 'memprobe: who asks the kernel for memory',
    'lang.label': 'Language',
    'nav.processes': 'Processes',
    'nav.requests': 'Requests',
    'hdr.source': 'Source',
    'hdr.source.stap': 'stap module',
    'hdr.source.ebpf': 'eBPF',
    'hdr.eps': 'Events/s',
    'hdr.drops': 'Drops',
    'hdr.drops.help': 'Records the kernel could not hand to the reader (ring full). Non-zero means data was lost and counted. Probe runs SystemTap or the kernel skipped (reentrancy, recursion) are counted apart, as Skipped.',
    'hdr.lost': 'Lost',
    'hdr.lost.help': 'Records lector could not keep: the spill disk was full, or a killed lector had read them but not committed them. Counted, see docs/FAULTS.md.',
    'hdr.skipped': 'Skipped',
    'hdr.skipped.value': 'up to {n}',
    'hdr.skipped.help': 'Probe runs SystemTap or the kernel skipped (reentrancy, low stack, eBPF recursion): up to that many events are missing. An upper bound: a skipped run may have been a call memprobe does not record. See docs/FAULTS.md.',
    'hdr.gap': 'Nothing was captured for {s} s before this session began (lector or module restarted).',
    'hdr.lag': 'Lag',
    'hdr.lag.help': 'Time from the call in the kernel to its commit in the database.',
    'hdr.host': 'Host',
    'hdr.host.all': 'All hosts',
    'hdr.host.help': 'Show the processes and calls of one machine, or of all of them.',
    'proc.host': 'Host',
    'conn.open': 'live',
    'conn.connecting': 'connecting…',
    'conn.reconnecting': 'reconnecting…',
    'conn.closed': 'disconnected',
    'units.help': 'Sizes in IEC units: 1 KiB = 1024 bytes, 1 MiB = 1024 KiB. Hover a size for the exact byte count.',
    'proc.title': 'Processes',
    'proc.search': 'Search name or PID',
    'proc.aliveOnly': 'Alive only',
    'proc.pid': 'PID',
    'proc.name': 'Name',
    'proc.memory': 'Memory held',
    'proc.memory.help': 'Net bytes: successful mmap lengths minus munmap lengths since capture began (never below 0).',
    'proc.pct': '% of virtual memory',
    'proc.pct.help': 'Memory held / (MemTotal + SwapTotal) of this host.',
    'proc.calls': 'Calls',
    'proc.lastSeen': 'Last seen',
    'proc.state': 'State',
    'proc.alive': 'alive',
    'proc.exited': 'exited',
    'proc.shown': 'Showing {n} of {total}',
    'proc.empty': 'No process has made a memory call yet.',
    'pie.title': 'Share of all requested memory',
    'pie.help': 'Sum of successful mmap lengths per process; top 10, the rest as "Others".',
    'pie.others': 'Others',
    'pie.empty': 'No memory requested yet.',
    'req.title': 'Requests',
    'req.time': 'Time',
    'req.pid': 'PID',
    'req.name': 'Name',
    'req.call': 'Call',
    'req.size': 'Size',
    'req.addr': 'Address',
    'req.result': 'Result',
    'req.failed': 'failed',
    'req.allCalls': 'All calls',
    'req.filterPid': 'Filter by PID',
    'req.pause': 'Pause',
    'req.resume': 'Resume',
    'req.buffered': '{n} new while paused',
    'req.older': 'Older',
    'req.noOlder': 'Start of history',
    'req.empty': 'No calls yet.',
    'pv.back': '← All processes',
    'pv.title': 'Process {pid}: {name}',
    'pv.net': 'Net (mmap − munmap)',
    'pv.mapped': 'Mapped now',
    'pv.vmsize': 'VmSize (kernel)',
    'pv.chart': 'Memory over time',
    'pv.calls': 'Its calls',
    'pv.notFound': 'No such process.',
    'ago.s': '{n} s ago',
    'ago.m': '{n} min ago',
    'ago.h': '{n} h ago',
    'err.api': 'Server request failed: {msg}',
    'err.contract': 'This dashboard does not understand the server\'s reply ({msg}): the two were built from different versions. Rebuild and restart both (make run, or make install), then reload the page.',
    'err.auth': 'Not signed in (the session ended, or the token changed): open the dashboard again through its token URL (make run prints it).',
    'live.skipped': 'The live view fell behind the calls this machine makes and jumped ahead {n} events. Nothing is lost: the skipped calls are in the database (Requests → Older).'
  },
  es: {
    'app.title': 'memprobe: quién pide memoria al núcleo',
    'lang.label': 'Idioma',
    'nav.processes': 'Procesos',
    'nav.requests': 'Peticiones',
    'hdr.source': 'Fuente',
    'hdr.source.stap': 'módulo stap',
    'hdr.source.ebpf': 'eBPF',
    'hdr.eps': 'Eventos/s',
    'hdr.drops': 'Descartados',
    'hdr.drops.help': 'Registros que el núcleo no pudo entregar al lector (anillo lleno). Distinto de cero: se perdieron datos y se contaron. Las ejecuciones de sonda que SystemTap o el núcleo omitieron (reentrada, recursión) se cuentan aparte, como Omitidas.',
    'hdr.lost': 'Perdidos',
    'hdr.lost.help': 'Registros que lector no pudo conservar: el disco del volcado estaba lleno, o un lector terminado a la fuerza los había leído sin confirmarlos. Están contados; ver docs/FAULTS.es.md.',
    'hdr.skipped': 'Omitidas',
    'hdr.skipped.value': 'hasta {n}',
    'hdr.skipped.help': 'Ejecuciones de sonda que SystemTap o el núcleo omitieron (reentrada, pila baja, recursión eBPF): faltan hasta ese número de eventos. Es una cota superior: una ejecución omitida pudo ser una llamada que memprobe no registra. Ver docs/FAULTS.es.md.',
    'hdr.gap': 'No se capturó nada durante {s} s antes de esta sesión (se reinició lector o el módulo).',
    'hdr.lag': 'Retraso',
    'hdr.lag.help': 'Tiempo desde la llamada en el núcleo hasta su registro en la base de datos.',
    'hdr.host': 'Máquina',
    'hdr.host.all': 'Todas las máquinas',
    'hdr.host.help': 'Muestra los procesos y llamadas de una máquina, o de todas.',
    'proc.host': 'Máquina',
    'conn.open': 'en vivo',
    'conn.connecting': 'conectando…',
    'conn.reconnecting': 'reconectando…',
    'conn.closed': 'desconectado',
    'units.help': 'Tamaños en unidades IEC: 1 KiB = 1024 bytes, 1 MiB = 1024 KiB. Pase el ratón sobre un tamaño para ver los bytes exactos.',
    'proc.title': 'Procesos',
    'proc.search': 'Buscar nombre o PID',
    'proc.aliveOnly': 'Solo vivos',
    'proc.pid': 'PID',
    'proc.name': 'Nombre',
    'proc.memory': 'Memoria retenida',
    'proc.memory.help': 'Bytes netos: longitudes de mmap con éxito menos las de munmap desde el inicio de la captura (nunca menor que 0).',
    'proc.pct': '% de memoria virtual',
    'proc.pct.help': 'Memoria retenida / (MemTotal + SwapTotal) de esta máquina.',
    'proc.calls': 'Llamadas',
    'proc.lastSeen': 'Última actividad',
    'proc.state': 'Estado',
    'proc.alive': 'vivo',
    'proc.exited': 'terminado',
    'proc.shown': 'Mostrando {n} de {total}',
    'proc.empty': 'Ningún proceso ha hecho aún una llamada de memoria.',
    'pie.title': 'Reparto de toda la memoria pedida',
    'pie.help': 'Suma de longitudes de mmap con éxito por proceso; los 10 primeros y el resto como "Otros".',
    'pie.others': 'Otros',
    'pie.empty': 'Aún no se ha pedido memoria.',
    'req.title': 'Peticiones',
    'req.time': 'Hora',
    'req.pid': 'PID',
    'req.name': 'Nombre',
    'req.call': 'Llamada',
    'req.size': 'Tamaño',
    'req.addr': 'Dirección',
    'req.result': 'Resultado',
    'req.failed': 'fallida',
    'req.allCalls': 'Todas las llamadas',
    'req.filterPid': 'Filtrar por PID',
    'req.pause': 'Pausa',
    'req.resume': 'Continuar',
    'req.buffered': '{n} nuevas durante la pausa',
    'req.older': 'Anteriores',
    'req.noOlder': 'Inicio del historial',
    'req.empty': 'Aún no hay llamadas.',
    'pv.back': '← Todos los procesos',
    'pv.title': 'Proceso {pid}: {name}',
    'pv.net': 'Neto (mmap − munmap)',
    'pv.mapped': 'Mapeado ahora',
    'pv.vmsize': 'VmSize (núcleo)',
    'pv.chart': 'Memoria a lo largo del tiempo',
    'pv.calls': 'Sus llamadas',
    'pv.notFound': 'No existe ese proceso.',
    'ago.s': 'hace {n} s',
    'ago.m': 'hace {n} min',
    'ago.h': 'hace {n} h',
    'err.api': 'Falló una petición al servidor: {msg}',
    'err.contract': 'Este panel no entiende la respuesta del servidor ({msg}): los dos se construyeron con versiones distintas. Construya y reinicie ambos (make run, o make install) y recargue la página.',
    'err.auth': 'Sin sesión (la sesión terminó o el token cambió): abra de nuevo el panel con su URL con token (make run la muestra).',
    'live.skipped': 'La vista en vivo se quedó atrás de las llamadas de esta máquina y saltó {n} eventos. No se pierde nada: las llamadas saltadas están en la base de datos (Peticiones → Anteriores).'
  }
}

export const LANGS = Object.keys(MESSAGES)

function initialLang() {
  const saved = globalThis.localStorage?.getItem('memprobe.lang')
  if (saved && MESSAGES[saved]) return saved
  return (globalThis.navigator?.language || 'en').startsWith('es') ? 'es' : 'en'
}

export const lang = ref(initialLang())

export function setLang(l) {
  if (!MESSAGES[l]) return
  lang.value = l
  globalThis.localStorage?.setItem('memprobe.lang', l)
  document.documentElement.lang = l
}

export function t(key, params) {
  const s = MESSAGES[lang.value][key] ?? MESSAGES.en[key] ?? key
  if (!params) return s
  return s.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ''))
}

export function useI18n() {
  return { t, lang, setLang, LANGS }
}

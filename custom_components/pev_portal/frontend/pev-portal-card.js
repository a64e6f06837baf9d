var G=globalThis,Y=G.ShadowRoot&&(G.ShadyCSS===void 0||G.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,ee=Symbol(),we=new WeakMap,O=class{constructor(e,t,i){if(this._$cssResult$=!0,i!==ee)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=e,this.t=t}get styleSheet(){let e=this.o,t=this.t;if(Y&&e===void 0){let i=t!==void 0&&t.length===1;i&&(e=we.get(t)),e===void 0&&((this.o=e=new CSSStyleSheet).replaceSync(this.cssText),i&&we.set(t,e))}return e}toString(){return this.cssText}},xe=s=>new O(typeof s=="string"?s:s+"",void 0,ee),te=(s,...e)=>{let t=s.length===1?s[0]:e.reduce((i,n,r)=>i+(a=>{if(a._$cssResult$===!0)return a.cssText;if(typeof a=="number")return a;throw Error("Value passed to 'css' function must be a 'css' function result: "+a+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(n)+s[r+1],s[0]);return new O(t,s,ee)},Se=(s,e)=>{if(Y)s.adoptedStyleSheets=e.map(t=>t instanceof CSSStyleSheet?t:t.styleSheet);else for(let t of e){let i=document.createElement("style"),n=G.litNonce;n!==void 0&&i.setAttribute("nonce",n),i.textContent=t.cssText,s.appendChild(i)}},ie=Y?s=>s:s=>s instanceof CSSStyleSheet?(e=>{let t="";for(let i of e.cssRules)t+=i.cssText;return xe(t)})(s):s;var{is:Xe,defineProperty:Ge,getOwnPropertyDescriptor:Ye,getOwnPropertyNames:Ze,getOwnPropertySymbols:Je,getPrototypeOf:Qe}=Object,Z=globalThis,Ae=Z.trustedTypes,et=Ae?Ae.emptyScript:"",tt=Z.reactiveElementPolyfillSupport,z=(s,e)=>s,ne={toAttribute(s,e){switch(e){case Boolean:s=s?et:null;break;case Object:case Array:s=s==null?s:JSON.stringify(s)}return s},fromAttribute(s,e){let t=s;switch(e){case Boolean:t=s!==null;break;case Number:t=s===null?null:Number(s);break;case Object:case Array:try{t=JSON.parse(s)}catch{t=null}}return t}},Ce=(s,e)=>!Xe(s,e),Ee={attribute:!0,type:String,converter:ne,reflect:!1,useDefault:!1,hasChanged:Ce};Symbol.metadata??=Symbol("metadata"),Z.litPropertyMetadata??=new WeakMap;var $=class extends HTMLElement{static addInitializer(e){this._$Ei(),(this.l??=[]).push(e)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(e,t=Ee){if(t.state&&(t.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(e)&&((t=Object.create(t)).wrapped=!0),this.elementProperties.set(e,t),!t.noAccessor){let i=Symbol(),n=this.getPropertyDescriptor(e,i,t);n!==void 0&&Ge(this.prototype,e,n)}}static getPropertyDescriptor(e,t,i){let{get:n,set:r}=Ye(this.prototype,e)??{get(){return this[t]},set(a){this[t]=a}};return{get:n,set(a){let c=n?.call(this);r?.call(this,a),this.requestUpdate(e,c,i)},configurable:!0,enumerable:!0}}static getPropertyOptions(e){return this.elementProperties.get(e)??Ee}static _$Ei(){if(this.hasOwnProperty(z("elementProperties")))return;let e=Qe(this);e.finalize(),e.l!==void 0&&(this.l=[...e.l]),this.elementProperties=new Map(e.elementProperties)}static finalize(){if(this.hasOwnProperty(z("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(z("properties"))){let t=this.properties,i=[...Ze(t),...Je(t)];for(let n of i)this.createProperty(n,t[n])}let e=this[Symbol.metadata];if(e!==null){let t=litPropertyMetadata.get(e);if(t!==void 0)for(let[i,n]of t)this.elementProperties.set(i,n)}this._$Eh=new Map;for(let[t,i]of this.elementProperties){let n=this._$Eu(t,i);n!==void 0&&this._$Eh.set(n,t)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(e){let t=[];if(Array.isArray(e)){let i=new Set(e.flat(1/0).reverse());for(let n of i)t.unshift(ie(n))}else e!==void 0&&t.push(ie(e));return t}static _$Eu(e,t){let i=t.attribute;return i===!1?void 0:typeof i=="string"?i:typeof e=="string"?e.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(e=>this.enableUpdating=e),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(e=>e(this))}addController(e){(this._$EO??=new Set).add(e),this.renderRoot!==void 0&&this.isConnected&&e.hostConnected?.()}removeController(e){this._$EO?.delete(e)}_$E_(){let e=new Map,t=this.constructor.elementProperties;for(let i of t.keys())this.hasOwnProperty(i)&&(e.set(i,this[i]),delete this[i]);e.size>0&&(this._$Ep=e)}createRenderRoot(){let e=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Se(e,this.constructor.elementStyles),e}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(e=>e.hostConnected?.())}enableUpdating(e){}disconnectedCallback(){this._$EO?.forEach(e=>e.hostDisconnected?.())}attributeChangedCallback(e,t,i){this._$AK(e,i)}_$ET(e,t){let i=this.constructor.elementProperties.get(e),n=this.constructor._$Eu(e,i);if(n!==void 0&&i.reflect===!0){let r=(i.converter?.toAttribute!==void 0?i.converter:ne).toAttribute(t,i.type);this._$Em=e,r==null?this.removeAttribute(n):this.setAttribute(n,r),this._$Em=null}}_$AK(e,t){let i=this.constructor,n=i._$Eh.get(e);if(n!==void 0&&this._$Em!==n){let r=i.getPropertyOptions(n),a=typeof r.converter=="function"?{fromAttribute:r.converter}:r.converter?.fromAttribute!==void 0?r.converter:ne;this._$Em=n;let c=a.fromAttribute(t,r.type);this[n]=c??this._$Ej?.get(n)??c,this._$Em=null}}requestUpdate(e,t,i,n=!1,r){if(e!==void 0){let a=this.constructor;if(n===!1&&(r=this[e]),i??=a.getPropertyOptions(e),!((i.hasChanged??Ce)(r,t)||i.useDefault&&i.reflect&&r===this._$Ej?.get(e)&&!this.hasAttribute(a._$Eu(e,i))))return;this.C(e,t,i)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(e,t,{useDefault:i,reflect:n,wrapped:r},a){i&&!(this._$Ej??=new Map).has(e)&&(this._$Ej.set(e,a??t??this[e]),r!==!0||a!==void 0)||(this._$AL.has(e)||(this.hasUpdated||i||(t=void 0),this._$AL.set(e,t)),n===!0&&this._$Em!==e&&(this._$Eq??=new Set).add(e))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(t){Promise.reject(t)}let e=this.scheduleUpdate();return e!=null&&await e,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[n,r]of this._$Ep)this[n]=r;this._$Ep=void 0}let i=this.constructor.elementProperties;if(i.size>0)for(let[n,r]of i){let{wrapped:a}=r,c=this[n];a!==!0||this._$AL.has(n)||c===void 0||this.C(n,void 0,r,c)}}let e=!1,t=this._$AL;try{e=this.shouldUpdate(t),e?(this.willUpdate(t),this._$EO?.forEach(i=>i.hostUpdate?.()),this.update(t)):this._$EM()}catch(i){throw e=!1,this._$EM(),i}e&&this._$AE(t)}willUpdate(e){}_$AE(e){this._$EO?.forEach(t=>t.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(e)),this.updated(e)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(e){return!0}update(e){this._$Eq&&=this._$Eq.forEach(t=>this._$ET(t,this[t])),this._$EM()}updated(e){}firstUpdated(e){}};$.elementStyles=[],$.shadowRootOptions={mode:"open"},$[z("elementProperties")]=new Map,$[z("finalized")]=new Map,tt?.({ReactiveElement:$}),(Z.reactiveElementVersions??=[]).push("2.1.2");var de=globalThis,ke=s=>s,J=de.trustedTypes,Pe=J?J.createPolicy("lit-html",{createHTML:s=>s}):void 0,Oe="$lit$",x=`lit$${Math.random().toFixed(9).slice(2)}$`,ze="?"+x,it=`<${ze}>`,k=document,H=()=>k.createComment(""),U=s=>s===null||typeof s!="object"&&typeof s!="function",he=Array.isArray,nt=s=>he(s)||typeof s?.[Symbol.iterator]=="function",se=`[ 	
\f\r]`,L=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Re=/-->/g,De=/>/g,E=RegExp(`>|${se}(?:([^\\s"'>=/]+)(${se}*=${se}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Te=/'/g,Me=/"/g,Le=/^(?:script|style|textarea|title)$/i,pe=s=>(e,...t)=>({_$litType$:s,strings:e,values:t}),d=pe(1),y=pe(2),ft=pe(3),P=Symbol.for("lit-noChange"),p=Symbol.for("lit-nothing"),Ne=new WeakMap,C=k.createTreeWalker(k,129);function He(s,e){if(!he(s)||!s.hasOwnProperty("raw"))throw Error("invalid template strings array");return Pe!==void 0?Pe.createHTML(e):e}var st=(s,e)=>{let t=s.length-1,i=[],n,r=e===2?"<svg>":e===3?"<math>":"",a=L;for(let c=0;c<t;c++){let o=s[c],l,m,u=-1,g=0;for(;g<o.length&&(a.lastIndex=g,m=a.exec(o),m!==null);)g=a.lastIndex,a===L?m[1]==="!--"?a=Re:m[1]!==void 0?a=De:m[2]!==void 0?(Le.test(m[2])&&(n=RegExp("</"+m[2],"g")),a=E):m[3]!==void 0&&(a=E):a===E?m[0]===">"?(a=n??L,u=-1):m[1]===void 0?u=-2:(u=a.lastIndex-m[2].length,l=m[1],a=m[3]===void 0?E:m[3]==='"'?Me:Te):a===Me||a===Te?a=E:a===Re||a===De?a=L:(a=E,n=void 0);let f=a===E&&s[c+1].startsWith("/>")?" ":"";r+=a===L?o+it:u>=0?(i.push(l),o.slice(0,u)+Oe+o.slice(u)+x+f):o+x+(u===-2?c:f)}return[He(s,r+(s[t]||"<?>")+(e===2?"</svg>":e===3?"</math>":"")),i]},q=class s{constructor({strings:e,_$litType$:t},i){let n;this.parts=[];let r=0,a=0,c=e.length-1,o=this.parts,[l,m]=st(e,t);if(this.el=s.createElement(l,i),C.currentNode=this.el.content,t===2||t===3){let u=this.el.content.firstChild;u.replaceWith(...u.childNodes)}for(;(n=C.nextNode())!==null&&o.length<c;){if(n.nodeType===1){if(n.hasAttributes())for(let u of n.getAttributeNames())if(u.endsWith(Oe)){let g=m[a++],f=n.getAttribute(u).split(x),A=/([.?@])?(.*)/.exec(g);o.push({type:1,index:r,name:A[2],strings:f,ctor:A[1]==="."?ae:A[1]==="?"?oe:A[1]==="@"?le:M}),n.removeAttribute(u)}else u.startsWith(x)&&(o.push({type:6,index:r}),n.removeAttribute(u));if(Le.test(n.tagName)){let u=n.textContent.split(x),g=u.length-1;if(g>0){n.textContent=J?J.emptyScript:"";for(let f=0;f<g;f++)n.append(u[f],H()),C.nextNode(),o.push({type:2,index:++r});n.append(u[g],H())}}}else if(n.nodeType===8)if(n.data===ze)o.push({type:2,index:r});else{let u=-1;for(;(u=n.data.indexOf(x,u+1))!==-1;)o.push({type:7,index:r}),u+=x.length-1}r++}}static createElement(e,t){let i=k.createElement("template");return i.innerHTML=e,i}};function T(s,e,t=s,i){if(e===P)return e;let n=i!==void 0?t._$Co?.[i]:t._$Cl,r=U(e)?void 0:e._$litDirective$;return n?.constructor!==r&&(n?._$AO?.(!1),r===void 0?n=void 0:(n=new r(s),n._$AT(s,t,i)),i!==void 0?(t._$Co??=[])[i]=n:t._$Cl=n),n!==void 0&&(e=T(s,n._$AS(s,e.values),n,i)),e}var re=class{constructor(e,t){this._$AV=[],this._$AN=void 0,this._$AD=e,this._$AM=t}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(e){let{el:{content:t},parts:i}=this._$AD,n=(e?.creationScope??k).importNode(t,!0);C.currentNode=n;let r=C.nextNode(),a=0,c=0,o=i[0];for(;o!==void 0;){if(a===o.index){let l;o.type===2?l=new I(r,r.nextSibling,this,e):o.type===1?l=new o.ctor(r,o.name,o.strings,this,e):o.type===6&&(l=new ce(r,this,e)),this._$AV.push(l),o=i[++c]}a!==o?.index&&(r=C.nextNode(),a++)}return C.currentNode=k,n}p(e){let t=0;for(let i of this._$AV)i!==void 0&&(i.strings!==void 0?(i._$AI(e,i,t),t+=i.strings.length-2):i._$AI(e[t])),t++}},I=class s{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(e,t,i,n){this.type=2,this._$AH=p,this._$AN=void 0,this._$AA=e,this._$AB=t,this._$AM=i,this.options=n,this._$Cv=n?.isConnected??!0}get parentNode(){let e=this._$AA.parentNode,t=this._$AM;return t!==void 0&&e?.nodeType===11&&(e=t.parentNode),e}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(e,t=this){e=T(this,e,t),U(e)?e===p||e==null||e===""?(this._$AH!==p&&this._$AR(),this._$AH=p):e!==this._$AH&&e!==P&&this._(e):e._$litType$!==void 0?this.$(e):e.nodeType!==void 0?this.T(e):nt(e)?this.k(e):this._(e)}O(e){return this._$AA.parentNode.insertBefore(e,this._$AB)}T(e){this._$AH!==e&&(this._$AR(),this._$AH=this.O(e))}_(e){this._$AH!==p&&U(this._$AH)?this._$AA.nextSibling.data=e:this.T(k.createTextNode(e)),this._$AH=e}$(e){let{values:t,_$litType$:i}=e,n=typeof i=="number"?this._$AC(e):(i.el===void 0&&(i.el=q.createElement(He(i.h,i.h[0]),this.options)),i);if(this._$AH?._$AD===n)this._$AH.p(t);else{let r=new re(n,this),a=r.u(this.options);r.p(t),this.T(a),this._$AH=r}}_$AC(e){let t=Ne.get(e.strings);return t===void 0&&Ne.set(e.strings,t=new q(e)),t}k(e){he(this._$AH)||(this._$AH=[],this._$AR());let t=this._$AH,i,n=0;for(let r of e)n===t.length?t.push(i=new s(this.O(H()),this.O(H()),this,this.options)):i=t[n],i._$AI(r),n++;n<t.length&&(this._$AR(i&&i._$AB.nextSibling,n),t.length=n)}_$AR(e=this._$AA.nextSibling,t){for(this._$AP?.(!1,!0,t);e!==this._$AB;){let i=ke(e).nextSibling;ke(e).remove(),e=i}}setConnected(e){this._$AM===void 0&&(this._$Cv=e,this._$AP?.(e))}},M=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(e,t,i,n,r){this.type=1,this._$AH=p,this._$AN=void 0,this.element=e,this.name=t,this._$AM=n,this.options=r,i.length>2||i[0]!==""||i[1]!==""?(this._$AH=Array(i.length-1).fill(new String),this.strings=i):this._$AH=p}_$AI(e,t=this,i,n){let r=this.strings,a=!1;if(r===void 0)e=T(this,e,t,0),a=!U(e)||e!==this._$AH&&e!==P,a&&(this._$AH=e);else{let c=e,o,l;for(e=r[0],o=0;o<r.length-1;o++)l=T(this,c[i+o],t,o),l===P&&(l=this._$AH[o]),a||=!U(l)||l!==this._$AH[o],l===p?e=p:e!==p&&(e+=(l??"")+r[o+1]),this._$AH[o]=l}a&&!n&&this.j(e)}j(e){e===p?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,e??"")}},ae=class extends M{constructor(){super(...arguments),this.type=3}j(e){this.element[this.name]=e===p?void 0:e}},oe=class extends M{constructor(){super(...arguments),this.type=4}j(e){this.element.toggleAttribute(this.name,!!e&&e!==p)}},le=class extends M{constructor(e,t,i,n,r){super(e,t,i,n,r),this.type=5}_$AI(e,t=this){if((e=T(this,e,t,0)??p)===P)return;let i=this._$AH,n=e===p&&i!==p||e.capture!==i.capture||e.once!==i.once||e.passive!==i.passive,r=e!==p&&(i===p||n);n&&this.element.removeEventListener(this.name,this,i),r&&this.element.addEventListener(this.name,this,e),this._$AH=e}handleEvent(e){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,e):this._$AH.handleEvent(e)}},ce=class{constructor(e,t,i){this.element=e,this.type=6,this._$AN=void 0,this._$AM=t,this.options=i}get _$AU(){return this._$AM._$AU}_$AI(e){T(this,e)}};var rt=de.litHtmlPolyfillSupport;rt?.(q,I),(de.litHtmlVersions??=[]).push("3.3.3");var Ue=(s,e,t)=>{let i=t?.renderBefore??e,n=i._$litPart$;if(n===void 0){let r=t?.renderBefore??null;i._$litPart$=n=new I(e.insertBefore(H(),r),r,void 0,t??{})}return n._$AI(s),n};var ue=globalThis,S=class extends ${constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let e=super.createRenderRoot();return this.renderOptions.renderBefore??=e.firstChild,e}update(e){let t=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(e),this._$Do=Ue(t,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return P}};S._$litElement$=!0,S.finalized=!0,ue.litElementHydrateSupport?.({LitElement:S});var at=ue.litElementPolyfillSupport;at?.({LitElement:S});(ue.litElementVersions??=[]).push("4.2.2");function _(s){if(!s)return null;let e=Date.parse(s);return Number.isNaN(e)?null:e}function ot(s){let e=s.now.getTime(),t=s.plan?.slots??[],i=t.map(o=>_(o.start)).filter(o=>o!==null),n=t.map(o=>_(o.end)).filter(o=>o!==null),r=Math.min(e,...i),a;if(n.length)a=Math.max(...n,_(s.plan?.departure)??0,_(s.plan?.ready_by)??0);else{let o=Math.max(0,...s.prices.map(l=>_(l.end)??0));a=o>r?Math.min(o,r+864e5):r+864e5}let c=_(s.plan?.departure);return c!==null&&c>a&&(a=c),a-r<36e5&&(a=r+36e5),{start:r,end:a}}function lt(s,e,t){let i=e-s,n=Math.max(1,Math.floor(t/56)),r=[1,2,3,6,12,24].find(o=>i/(o*36e5)<=n)??24,a=Math.ceil(s/(r*36e5))*r*36e5,c=[];for(let o=a;o<=e;o+=r*36e5)c.push(o);return c}function qe(s,e){let{width:t}=e,i=e.axis??18,n=Math.max(10,e.height-i),r=n*(e.priceShare??.45),{start:a,end:c}=ot(s),o=h=>(h-a)/(c-a)*t,l=(h,v)=>{if(h===null||v===null)return null;let b=Math.max(h,a),w=Math.min(v,c);return w>b?[b,w]:null},m=s.prices.filter(h=>l(_(h.start),_(h.end))).map(h=>h.price),u=m.length?Math.min(...m):null,g=m.length?Math.max(...m):null,f=[];for(let h of s.prices){let v=l(_(h.start),_(h.end));if(!v||u===null||g===null)continue;let b=g>u?.25+.75*(h.price-u)/(g-u):.5,w=r*b;f.push({x:o(v[0]),width:o(v[1])-o(v[0]),y:n-w,height:w,price:h.price,period:h.period})}let A=s.plan?.slots??[],We=s.caps.map(h=>h.limit_kw??0),X=Math.max(1,...A.map(h=>h.power_kw||0),...We)*1.1,fe=[];for(let h of A){let v=l(_(h.start),_(h.end));if(!v||!(h.power_kw>0))continue;let b=n*h.power_kw/X,w=o(v[0]),Ke=Math.max(1,o(v[1])-w-1);fe.push({x:w,y:n-b,width:Ke,height:b,power:h.power_kw})}let be=[],$e=[...s.caps];for(let h of s.events)h&&h.kind==="load_control"&&!s.caps.some(v=>v.start===h.start)&&$e.push({start:h.start,end:h.end,limit_kw:h.limit_kw??null,name:h.name??null});for(let h of $e){let v=l(_(h.start),_(h.end));if(!v)continue;let b=h.limit_kw??null;be.push({x:o(v[0]),y:0,width:o(v[1])-o(v[0]),height:n,limit:b,limitY:b===null?null:n-n*Math.min(b,X)/X,name:h.name??null})}let ye=h=>{let v=_(h);return v!==null&&v>=a&&v<=c?o(v):null},Q=s.now.getTime();return{width:t,height:e.height,plotHeight:n,start:a,end:c,prices:f,bars:fe,caps:be,nowX:Q>=a&&Q<=c?o(Q):null,departureX:ye(s.plan?.departure),readyByX:ye(s.plan?.ready_by),ticks:lt(a,c,t).map(h=>({x:o(h),time:new Date(h).toISOString()})),maxPower:X,minPrice:u,maxPrice:g}}function V(s,e,t=2){return s==null||!Number.isFinite(s)?"–":new Intl.NumberFormat(e,{minimumFractionDigits:t,maximumFractionDigits:t}).format(s)}function me(s,e){return s==null||!Number.isFinite(s)?"–":`${V(s,e,Math.abs(s)<10?2:1)} kWh`}function N(s,e){return s==null||!Number.isFinite(s)?"–":`${V(s,e,s===0?0:1)} kW`}function R(s,e,t,i=2){if(s==null||!Number.isFinite(s))return"–";try{return new Intl.NumberFormat(t,{style:"currency",currency:e,minimumFractionDigits:i,maximumFractionDigits:i}).format(s)}catch{return`${V(s,t,i)} ${e}`}}function B(s,e,t){if(s==null||!Number.isFinite(s))return"–";let i=r=>Math.abs(Math.round(s*10**r)-s*10**r)<1e-6,n=i(2)?2:i(3)?3:4;return`${R(s,e,t,n)}/kWh`}function Ie(s){if(!s)return null;let e=new Date(s);return Number.isNaN(e.getTime())?null:e}function Ve(s){if(s)try{return new Intl.DateTimeFormat("en",{timeZone:s}),s}catch{return}}function F(s,e,t){let i=Ie(s);return i?new Intl.DateTimeFormat(e,{hour:"2-digit",minute:"2-digit",timeZone:Ve(t)}).format(i):"–"}function D(s,e,t,i=new Date){let n=Ie(s);if(!n)return"–";let r=Ve(t),a=new Intl.DateTimeFormat("en-CA",{dateStyle:"short",timeZone:r});return a.format(n)===a.format(i)?F(s,e,r):new Intl.DateTimeFormat(e,{day:"numeric",month:"short",hour:"2-digit",minute:"2-digit",timeZone:r}).format(n)}var Be={loading:"Loading…",no_charger:"No PEV Portal charger found. Set up PEV Portal first.",error:"Error: {message}","state.unplugged":"Unplugged","state.validating":"Validating","state.waiting":"Waiting","state.charging":"Charging","state.paused":"Paused","state.completed":"Completed","state.fault":"Fault","outcome.pending":"Validating","outcome.home":"Home","outcome.guest_premise_pays":"Guest, premise pays","outcome.guest_pev_pays":"Guest, vehicle owner pays","outcome.roaming":"Roaming","outcome.not_enrolled":"Not enrolled","outcome.no_communications":"No communications","party.premise_customer":"premise customer","party.pev_customer":"vehicle customer","party.clearinghouse":"clearinghouse (roaming)",billed_to:"billed to {party}",program_rate:"program rate",vehicle:"Vehicle",vehicle_auto:"Automatic",unknown_vehicle:"Unknown vehicle",no_vehicle:"No vehicle plugged in",power:"Power",energy:"Energy",cost:"Cost so far",price:"Price",period_until:"{period} until {time}",charge_now:"Charge now",pause:"Pause charging",resume:"Resume charging",charging_enabled:"Charging enabled",charge_mode:"Charge mode",departure:"Departure",target:"Target",set:"Set","event.active":"Utility event in progress: {name}","event.upcoming":"Upcoming utility event: {name}","event.until":"until {time}","event.from":"from {start} to {end}","event.level":"level {level}","event.price":"price {price}","event.limit":"limit {limit}","event.cap_now":"Charging is capped at {limit}",opt_out:"Opt out",plan:"Plan",no_plan:"No charging plan: prices of the next 24 hours.",ready_by:"Ready by {time}",not_reachable:"Target not reachable by departure",plan_cost:"Plan cost {cost}",legend_price:"Price",legend_power:"Planned power",legend_cap:"Cap",legend_departure:"Departure",now:"now",history:"Last sessions",no_history:"No finished sessions yet.",intervals:"Intervals",no_intervals:"No intervals.","quality.OK":"OK","quality.ESTIMATED":"Estimated","quality.MISSING":"Missing",quality:"Data quality",time:"Time",export_csv:"Export CSV",export_session:"CSV",exported:"Export downloaded",add_event:"Add a local event",event_kind:"Kind","kind.price":"Price event","kind.load_control":"Load control",event_name:"Name",event_duration:"Duration (hours)",event_price:"Price per kWh",event_limit:"Power limit (kW)",add:"Add","done.vehicle":"Vehicle set to {vehicle}","done.charge_now":"Charging now","done.pause":"Charging paused","done.resume":"Charging resumed","done.opt_out":"Opted out of the event","opt_out.confirm":`Opting out: {consequence}
Opt out anyway?`,"event.consequence":"Opting out: {consequence}","done.event":"Event added","done.set":"{what} set",failed:"{action} failed: {message}","editor.device_id":"Charger","editor.title":"Title","editor.show_plan":"Show the plan","editor.show_history":"Show the last sessions","editor.show_event_form":"Show the local event form",card_name:"PEV Portal charger",card_description:"Shows and steers an EV charger under a utility program."},ct={loading:"Wird geladen…",no_charger:"Keine PEV-Portal-Ladestation gefunden. Richte zuerst PEV Portal ein.",error:"Fehler: {message}","state.unplugged":"Nicht angesteckt","state.validating":"Wird geprüft","state.waiting":"Wartet","state.charging":"Lädt","state.paused":"Pausiert","state.completed":"Abgeschlossen","state.fault":"Störung","outcome.pending":"Wird geprüft","outcome.home":"Zuhause","outcome.guest_premise_pays":"Gast, Hausanschluss zahlt","outcome.guest_pev_pays":"Gast, Fahrzeughalter zahlt","outcome.roaming":"Roaming","outcome.not_enrolled":"Nicht angemeldet","outcome.no_communications":"Keine Verbindung","party.premise_customer":"Kunde des Hausanschlusses","party.pev_customer":"Fahrzeugkunde","party.clearinghouse":"Clearingstelle (Roaming)",billed_to:"abgerechnet an {party}",program_rate:"Programmtarif",vehicle:"Fahrzeug",vehicle_auto:"Automatisch",unknown_vehicle:"Unbekanntes Fahrzeug",no_vehicle:"Kein Fahrzeug angesteckt",power:"Leistung",energy:"Energie",cost:"Bisherige Kosten",price:"Preis",period_until:"{period} bis {time}",charge_now:"Jetzt laden",pause:"Laden pausieren",resume:"Laden fortsetzen",charging_enabled:"Laden erlaubt",charge_mode:"Lademodus",departure:"Abfahrt",target:"Ziel",set:"Setzen","event.active":"Ereignis des Versorgers läuft: {name}","event.upcoming":"Bevorstehendes Ereignis des Versorgers: {name}","event.until":"bis {time}","event.from":"von {start} bis {end}","event.level":"Stufe {level}","event.price":"Preis {price}","event.limit":"Grenze {limit}","event.cap_now":"Laden ist auf {limit} begrenzt",opt_out:"Nicht teilnehmen",plan:"Plan",no_plan:"Kein Ladeplan: Preise der nächsten 24 Stunden.",ready_by:"Fertig um {time}",not_reachable:"Ziel bis zur Abfahrt nicht erreichbar",plan_cost:"Kosten des Plans {cost}",legend_price:"Preis",legend_power:"Geplante Leistung",legend_cap:"Begrenzung",legend_departure:"Abfahrt",now:"jetzt",history:"Letzte Ladevorgänge",no_history:"Noch keine abgeschlossenen Ladevorgänge.",intervals:"Intervalle",no_intervals:"Keine Intervalle.","quality.OK":"OK","quality.ESTIMATED":"Geschätzt","quality.MISSING":"Fehlend",quality:"Datenqualität",time:"Zeit",export_csv:"CSV exportieren",export_session:"CSV",exported:"Export heruntergeladen",add_event:"Lokales Ereignis hinzufügen",event_kind:"Art","kind.price":"Preisereignis","kind.load_control":"Laststeuerung",event_name:"Name",event_duration:"Dauer (Stunden)",event_price:"Preis pro kWh",event_limit:"Leistungsgrenze (kW)",add:"Hinzufügen","done.vehicle":"Fahrzeug auf {vehicle} gesetzt","done.charge_now":"Lädt jetzt","done.pause":"Laden pausiert","done.resume":"Laden fortgesetzt","done.opt_out":"Vom Ereignis abgemeldet","opt_out.confirm":`Nicht teilnehmen: {consequence}
Trotzdem nicht teilnehmen?`,"event.consequence":"Nicht teilnehmen: {consequence}","done.event":"Ereignis hinzugefügt","done.set":"{what} gesetzt",failed:"{action} fehlgeschlagen: {message}","editor.device_id":"Ladestation","editor.title":"Titel","editor.show_plan":"Plan anzeigen","editor.show_history":"Letzte Ladevorgänge anzeigen","editor.show_event_form":"Formular für lokale Ereignisse anzeigen",card_name:"PEV-Portal-Ladestation",card_description:"Zeigt und steuert eine Ladestation in einem Programm des Versorgers."},dt={loading:"Chargement…",no_charger:"Aucune borne PEV Portal trouvée. Configurez d'abord PEV Portal.",error:"Erreur : {message}","state.unplugged":"Débranché","state.validating":"Validation","state.waiting":"En attente","state.charging":"En charge","state.paused":"En pause","state.completed":"Terminé","state.fault":"Défaut","outcome.pending":"Validation","outcome.home":"Domicile","outcome.guest_premise_pays":"Invité, le site paie","outcome.guest_pev_pays":"Invité, le propriétaire du véhicule paie","outcome.roaming":"Itinérance","outcome.not_enrolled":"Non inscrit","outcome.no_communications":"Pas de communication","party.premise_customer":"client du site","party.pev_customer":"client du véhicule","party.clearinghouse":"chambre de compensation (itinérance)",billed_to:"facturé à : {party}",program_rate:"tarif du programme",vehicle:"Véhicule",vehicle_auto:"Automatique",unknown_vehicle:"Véhicule inconnu",no_vehicle:"Aucun véhicule branché",power:"Puissance",energy:"Énergie",cost:"Coût à ce jour",price:"Prix",period_until:"{period} jusqu'à {time}",charge_now:"Charger maintenant",pause:"Mettre en pause",resume:"Reprendre la charge",charging_enabled:"Charge autorisée",charge_mode:"Mode de charge",departure:"Départ",target:"Objectif",set:"Appliquer","event.active":"Événement du fournisseur en cours : {name}","event.upcoming":"Événement du fournisseur à venir : {name}","event.until":"jusqu'à {time}","event.from":"de {start} à {end}","event.level":"niveau {level}","event.price":"prix {price}","event.limit":"limite {limit}","event.cap_now":"La charge est limitée à {limit}",opt_out:"Se retirer",plan:"Plan",no_plan:"Pas de plan de charge : prix des prochaines 24 heures.",ready_by:"Prêt à {time}",not_reachable:"Objectif inatteignable avant le départ",plan_cost:"Coût du plan {cost}",legend_price:"Prix",legend_power:"Puissance prévue",legend_cap:"Limite",legend_departure:"Départ",now:"maintenant",history:"Dernières sessions",no_history:"Aucune session terminée.",intervals:"Intervalles",no_intervals:"Aucun intervalle.","quality.OK":"OK","quality.ESTIMATED":"Estimé","quality.MISSING":"Manquant",quality:"Qualité des données",time:"Heure",export_csv:"Exporter en CSV",export_session:"CSV",exported:"Export téléchargé",add_event:"Ajouter un événement local",event_kind:"Type","kind.price":"Événement de prix","kind.load_control":"Pilotage de charge",event_name:"Nom",event_duration:"Durée (heures)",event_price:"Prix par kWh",event_limit:"Limite de puissance (kW)",add:"Ajouter","done.vehicle":"Véhicule : {vehicle}","done.charge_now":"Charge immédiate","done.pause":"Charge en pause","done.resume":"Charge reprise","done.opt_out":"Retiré de l'événement","opt_out.confirm":`Se retirer : {consequence}
Se retirer quand même ?`,"event.consequence":"Se retirer : {consequence}","done.event":"Événement ajouté","done.set":"{what} appliqué",failed:"Échec de {action} : {message}","editor.device_id":"Borne","editor.title":"Titre","editor.show_plan":"Afficher le plan","editor.show_history":"Afficher les dernières sessions","editor.show_event_form":"Afficher le formulaire d'événement local",card_name:"Borne PEV Portal",card_description:"Affiche et pilote une borne de recharge dans un programme du fournisseur."},ve={en:Be,de:ct,fr:dt};function ht(s){if(!s)return"en";let e=s.toLowerCase();if(ve[e])return e;let t=e.split(/[-_]/)[0];return ve[t]?t:"en"}function j(s,e,t={}){return(ve[ht(s)][e]??Be[e]??e).replace(/\{(\w+)\}/g,(n,r)=>r in t?String(t[r]):n)}var K="pev-portal-card",pt="0.1.0",ut="/api/pev_portal/export",Fe="en";function _e(s){return s&&typeof s=="object"&&"message"in s?String(s.message):String(s)}var W=class extends S{constructor(){super(),this._config={type:`custom:${K}`},this._intervals={},this._width=320,this._eventKind="price"}setConfig(e){if(!e||typeof e!="object")throw new Error("Invalid configuration");this._config={show_plan:!0,show_history:!0,show_event_form:!0,...e}}getCardSize(){return 9}getGridOptions(){return{columns:12,min_columns:6,min_rows:4}}static getStubConfig(){return{}}static getConfigForm(){let e=t=>j(Fe,`editor.${t}`);return{schema:[{name:"device_id",selector:{device:{filter:{integration:"pev_portal"}}}},{name:"title",selector:{text:{}}},{type:"grid",name:"",schema:[{name:"show_plan",selector:{boolean:{}}},{name:"show_history",selector:{boolean:{}}},{name:"show_event_form",selector:{boolean:{}}}]}],computeLabel:t=>e(t.name)}}connectedCallback(){super.connectedCallback(),this._subscribe()}disconnectedCallback(){super.disconnectedCallback(),this._unsubscribeAll(),this._resizeObserver?.disconnect(),this._resizeObserver=void 0}updated(e){e.has("hass")&&(Fe=this._lang,this._subscribe());let t=this.renderRoot.querySelector(".chart");t&&!this._resizeObserver&&typeof ResizeObserver<"u"&&(this._resizeObserver=new ResizeObserver(i=>{let n=Math.round(i[0]?.contentRect.width??0);n>0&&Math.abs(n-this._width)>1&&(this._width=n)}),this._resizeObserver.observe(t))}_subscribe(){this._unsubscribe||!this.hass||!this.isConnected||(this._unsubscribe=this.hass.connection.subscribeMessage(e=>{this._data=e,this._error=void 0},{type:"pev_portal/subscribe_dashboard"}),this._unsubscribe.catch(e=>{this._error=_e(e),this._unsubscribe=void 0}))}_unsubscribeAll(){let e=this._unsubscribe;this._unsubscribe=void 0,e?.then(t=>t()).catch(()=>{})}get _lang(){return this.hass?.locale?.language??this.hass?.language??"en"}_t(e,t){return j(this._lang,e,t)}get _tz(){return this.hass?.config?.time_zone}_charger(){let e=this._data?.chargers??[],{device_id:t,charger_id:i}=this._config;return e.find(n=>t&&n.device_id===t||i&&n.charger_id===i)??e[0]}_entity(e,t){let i=e.entities[t];return i?this.hass?.states[i]:void 0}async _run(e,t,i){this._busy=e,this._status=void 0;try{await i(),this._status={ok:!0,text:t}}catch(n){this._status={ok:!1,text:this._t("failed",{action:this._t(e),message:_e(n)})}}finally{this._busy=void 0}}_selectVehicle(e,t){let i=t.target.value,n=e.entities.vehicle;if(!n||!this.hass)return;let r=i==="auto"?this._t("vehicle_auto"):i;this._run("vehicle",this._t("done.vehicle",{vehicle:r}),()=>this.hass.callService("select","select_option",{entity_id:n,option:i}))}_chargeNow(e){let t=e.entities.charge_now;!t||!this.hass||this._run("charge_now",this._t("done.charge_now"),()=>this.hass.callService("button","press",{entity_id:t}))}_toggleCharging(e){let t=e.entities.charging_enabled;if(!t||!this.hass)return;let i=e.charging_enabled;this._run(i?"pause":"resume",this._t(i?"done.pause":"done.resume"),()=>this.hass.callService("switch",i?"turn_off":"turn_on",{entity_id:t}))}_optOut(e,t){if(!this.hass||!e.device_id)return;let i=t.opt_out_consequence;i&&!window.confirm(this._t("opt_out.confirm",{consequence:i}))||this._run("opt_out",this._t("done.opt_out"),()=>this.hass.callService("pev_portal","opt_out",{device_id:e.device_id,confirm:!!i}))}_setEntity(e,t,i){let n=e.entities[t],r=this.renderRoot.querySelector(`#pev-${t}`);if(!n||!r||!this.hass)return;let a=n.split(".")[0],c=r.value,o=this._t("done.set",{what:i});this._run(t==="charge_mode"?"charge_mode":t,o,()=>{switch(a){case"select":return this.hass.callService("select","select_option",{entity_id:n,option:c});case"time":return this.hass.callService("time","set_value",{entity_id:n,time:c.length===5?`${c}:00`:c});case"datetime":return this.hass.callService("datetime","set_value",{entity_id:n,datetime:c});default:return this.hass.callService(a,"set_value",{entity_id:n,value:Number(c)})}})}_addEvent(e){if(!this.hass)return;let t=this.renderRoot,i=m=>t.querySelector(`#pev-event-${m}`)?.value??"",n=i("kind")||"price",r=Number(i("duration"))||1,a=new Date,c=new Date(a.getTime()+r*36e5),o={config_entry_id:e.entry_id,kind:n,start:a.toISOString(),end:c.toISOString()},l=i("name").trim();l&&(o.name=l),n==="price"?o.price=Number(i("price")):o.limit_kw=Number(i("limit")),this._run("add_event",this._t("done.event"),()=>this.hass.callService("pev_portal","add_local_event",o))}async _export(e,t){if(!this.hass)return;let i=new URLSearchParams({format:"csv",entry_id:e.entry_id});if(t){let n=e.sessions.find(r=>r.session_id===t);i.set("session_id",t),n&&(i.set("start",n.started_at),i.set("end",new Date(Date.parse(n.started_at)+1e3).toISOString()))}await this._run("export_csv",this._t("exported"),async()=>{let n=await this.hass.fetchWithAuth(`${ut}?${i}`);if(!n.ok)throw new Error(`HTTP ${n.status}: ${await n.text()}`);let r=n.headers.get("Content-Disposition")??"",a=/filename="([^"]+)"/.exec(r)?.[1]??"pev_portal_sessions.csv",c=URL.createObjectURL(await n.blob()),o=document.createElement("a");o.href=c,o.download=a,o.style.display="none",this.renderRoot.appendChild(o),o.click(),o.remove(),setTimeout(()=>URL.revokeObjectURL(c),1e4)})}async _toggleSession(e,t){let i=t.target.open,n=this._intervals[e.session_id];if(!(!i||!this.hass||n&&typeof n!="string"||n==="loading")){this._intervals={...this._intervals,[e.session_id]:"loading"};try{let r=await this.hass.callWS({type:"pev_portal/session_intervals",session_id:e.session_id});this._intervals={...this._intervals,[e.session_id]:r}}catch(r){this._intervals={...this._intervals,[e.session_id]:_e(r)}}}}render(){if(this._error)return d`<ha-card><div class="message error">${this._t("error",{message:this._error})}</div></ha-card>`;if(!this._data)return d`<ha-card><div class="message">${this._t("loading")}</div></ha-card>`;let e=this._charger();return e?d`
      <ha-card data-charger=${e.charger_id}>
        ${this._renderHeader(e)} ${this._renderBanner(e)} ${this._renderStats(e)}
        ${this._renderControls(e)}
        <div class="status ${this._status?this._status.ok?"ok":"failed":""}" role="status" aria-live="polite" data-test="status">
          ${this._status?.text??""}
        </div>
        ${this._config.show_plan===!1?p:this._renderPlan(e)}
        ${this._config.show_history===!1?p:this._renderHistory(e)}
        ${this._config.show_event_form===!1?p:this._renderEventForm(e)}
      </ha-card>
    `:d`<ha-card><div class="message">${this._t("no_charger")}</div></ha-card>`}_renderHeader(e){let t=e.session,i=e.binding,n=t?t.vehicle??t.pev_id??this._t("unknown_vehicle"):this._t("no_vehicle"),r=i?.billing_party?this._t("billed_to",{party:this._t(`party.${i.billing_party}`)}):"";return d`
      <div class="header">
        <div class="title">
          <h2 class="name">${this._config.title||e.name}</h2>
          <div class="sub">${e.premise}</div>
        </div>
        <span class="chip state-${e.state}" data-test="state" data-state=${e.state}>
          ${this._t(`state.${e.state}`)}
        </span>
      </div>
      <div class="binding" data-test="binding">
        <span class="vehicle" data-test="vehicle">${n}</span>
        ${i?d`<span class="outcome outcome-${i.outcome}" data-test="outcome">${this._t(`outcome.${i.outcome}`)}</span>
              ${r?d`<span class="party" data-test="party">${r}</span>`:p}
              ${i.program_rate?d`<span class="party">${this._t("program_rate")}</span>`:p}`:p}
      </div>
    `}_renderBanner(e){let t=e.event??e.next_event;if(!t&&e.cap_kw===null)return p;let i=!!e.event,n=[];t&&(t.level!==null&&t.level!==void 0&&n.push(this._t("event.level",{level:t.level})),t.price!==null&&t.price!==void 0&&n.push(this._t("event.price",{price:B(t.price,e.price.currency,this._lang)})),t.limit_kw!==null&&t.limit_kw!==void 0&&n.push(this._t("event.limit",{limit:N(t.limit_kw,this._lang)})),n.push(i?this._t("event.until",{time:D(t.end,this._lang,this._tz)}):this._t("event.from",{start:D(t.start,this._lang,this._tz),end:D(t.end,this._lang,this._tz)})));let r=t?.name||t?.kind||"";return d`
      <div class="banner ${i?"active":"upcoming"}" data-test="event-banner" role="note">
        <ha-icon icon=${i?"mdi:alert-circle":"mdi:calendar-clock"}></ha-icon>
        <div class="banner-text">
          ${t?d`<div class="banner-title" data-test="event-title">${this._t(i?"event.active":"event.upcoming",{name:r})}</div>
                <div class="banner-details">${n.join(" · ")}</div>`:p}
          ${e.cap_kw!==null?d`<div class="banner-details">${this._t("event.cap_now",{limit:N(e.cap_kw,this._lang)})}</div>`:p}
          ${t?.opt_out_allowed&&t.opt_out_consequence?d`<div class="banner-details" data-test="opt-out-consequence">${this._t("event.consequence",{consequence:t.opt_out_consequence})}</div>`:p}
        </div>
        ${t?.opt_out_allowed&&e.device_id?d`<button class="secondary" data-test="opt-out" @click=${()=>this._optOut(e,t)} ?disabled=${this._busy!==void 0}>
              ${this._t("opt_out")}
            </button>`:p}
      </div>
    `}_renderStats(e){let t=e.session,i=this._lang,n=e.price;return d`
      <div class="stats">
        <div class="stat" data-test="power">
          <div class="label">${this._t("power")}</div>
          <div class="value">${N(t?t.power_kw??0:null,i)}</div>
        </div>
        <div class="stat" data-test="energy">
          <div class="label">${this._t("energy")}</div>
          <div class="value">${me(t?.energy_kwh,i)}</div>
        </div>
        <div class="stat" data-test="cost">
          <div class="label">${this._t("cost")}</div>
          <div class="value">${R(t?.cost,t?.currency??n.currency,i)}</div>
        </div>
        <div class="stat" data-test="price">
          <div class="label">${this._t("price")}</div>
          <div class="value">${B(n.value,n.currency,i)}</div>
          <div class="hint">
            ${Date.parse(n.until)-Date.now()<864e5?this._t("period_until",{period:n.period,time:D(n.until,i,this._tz)}):n.period}
          </div>
        </div>
      </div>
    `}_renderControls(e){let t=this._busy!==void 0,i=this._entity(e,"vehicle"),n=i?.attributes.options??["auto",...e.vehicles.map(c=>c.name)],r=i?.state??"auto",a=e.charger_id;return d`
      <div class="controls">
        ${e.entities.vehicle?d`<div class="field">
              <label for="pev-vehicle-${a}">${this._t("vehicle")}</label>
              <select id="pev-vehicle-${a}" data-test="vehicle-select" ?disabled=${t} @change=${c=>this._selectVehicle(e,c)}>
                ${n.map(c=>d`<option value=${c} ?selected=${c===r}>${c==="auto"?this._t("vehicle_auto"):c}</option>`)}
              </select>
            </div>`:p}
        ${this._renderOptional(e)}
        <div class="buttons">
          ${e.entities.charging_enabled?d`<button class="secondary" data-test="toggle-charging" aria-pressed=${e.charging_enabled?"false":"true"} ?disabled=${t} @click=${()=>this._toggleCharging(e)}>
                ${this._t(e.charging_enabled?"pause":"resume")}
              </button>`:p}
          ${e.entities.charge_now?d`<button class="primary" data-test="charge-now" ?disabled=${t||!e.session} @click=${()=>this._chargeNow(e)}>
                ${this._t("charge_now")}
              </button>`:p}
        </div>
      </div>
    `}_renderOptional(e){let t=this._busy!==void 0,i=[],n=this._entity(e,"charge_mode");if(n){let l=n.attributes.options??[];i.push(d`<div class="field">
        <label for="pev-charge_mode">${this._t("charge_mode")}</label>
        <select id="pev-charge_mode" ?disabled=${t} @change=${()=>this._setEntity(e,"charge_mode",this._t("charge_mode"))}>
          ${l.map(m=>d`<option value=${m} ?selected=${m===n.state}>${m}</option>`)}
        </select>
      </div>`)}let r=["departure","departure_time"].find(l=>e.entities[l]),a=r?this._entity(e,r):void 0;if(r&&a){let l=a.entity_id.startsWith("time."),m=l?a.state.slice(0,5):a.state.slice(0,16);i.push(d`<div class="field">
        <label for="pev-${r}">${this._t("departure")}</label>
        <div class="inline">
          <input id="pev-${r}" type=${l?"time":"datetime-local"} .value=${m} ?disabled=${t} />
          <button class="secondary" ?disabled=${t} @click=${()=>this._setEntity(e,r,this._t("departure"))}>${this._t("set")}</button>
        </div>
      </div>`)}let c=["target","target_soc","target_energy","target_kwh"].find(l=>e.entities[l]),o=c?this._entity(e,c):void 0;if(c&&o){let l=o.attributes;i.push(d`<div class="field">
        <label for="pev-${c}">${this._t("target")}${l.unit_of_measurement?` (${l.unit_of_measurement})`:""}</label>
        <div class="inline">
          <input id="pev-${c}" type="number" min=${l.min??0} max=${l.max??100} step=${l.step??1} .value=${o.state} ?disabled=${t} />
          <button class="secondary" ?disabled=${t} @click=${()=>this._setEntity(e,c,this._t("target"))}>${this._t("set")}</button>
        </div>
      </div>`)}return i}_renderPlan(e){let t=this._lang,i=Math.max(200,this._width),n=150,r=qe({prices:e.prices,plan:e.plan,caps:e.caps,events:[e.event,e.next_event],now:new Date},{width:i,height:n}),a=e.plan,c=e.price.currency,o=l=>F(l,t,this._tz);return d`
      <section class="plan" aria-labelledby="pev-plan-title">
        <div class="section-head">
          <h3 id="pev-plan-title">${this._t("plan")}</h3>
          ${a?.ready_by?d`<span class="ready" data-test="ready-by">${this._t("ready_by",{time:D(a.ready_by,t,this._tz)})}</span>`:p}
        </div>
        ${a?d`<div class="plan-info">
              ${a.reachable===!1?d`<span class="warn">${this._t("not_reachable")}</span>`:p}
              ${a.reason?d`<span>${a.reason}</span>`:p}
              ${a.cost!==null&&a.cost!==void 0?d`<span>${this._t("plan_cost",{cost:R(a.cost,c,t)})}</span>`:p}
            </div>`:d`<div class="plan-info">${this._t("no_plan")}</div>`}
        <div class="chart" data-test="chart">
          <svg width=${i} height=${n} viewBox="0 0 ${i} ${n}" role="img" aria-label=${this._t("plan")}>
            <defs>
              <pattern id="pev-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                <rect width="6" height="6" class="cap-bg"></rect>
                <line x1="0" y1="0" x2="0" y2="6" class="cap-line"></line>
              </pattern>
            </defs>
            ${r.caps.map(l=>y`<rect class="cap" x=${l.x} y=${l.y} width=${l.width} height=${l.height} fill="url(#pev-hatch)"><title>${l.name??""} ${l.limit!==null?N(l.limit,t):""}</title></rect>
                ${l.limitY!==null?y`<line class="cap-limit" x1=${l.x} x2=${l.x+l.width} y1=${l.limitY} y2=${l.limitY}></line>`:p}`)}
            ${r.prices.map(l=>y`<rect class="price" x=${l.x} y=${l.y} width=${Math.max(.5,l.width)} height=${l.height}><title>${o(new Date(r.start+l.x/i*(r.end-r.start)).toISOString())} ${l.period}: ${B(l.price,c,t)}</title></rect>`)}
            ${r.bars.map(l=>y`<rect class="bar" x=${l.x} y=${l.y} width=${l.width} height=${l.height}><title>${N(l.power,t)}</title></rect>`)}
            ${r.nowX!==null?y`<line class="now" x1=${r.nowX} x2=${r.nowX} y1="0" y2=${r.plotHeight}></line>`:p}
            ${r.departureX!==null?y`<line class="departure" x1=${r.departureX} x2=${r.departureX} y1="0" y2=${r.plotHeight}></line>
                  <text class="departure-label" x=${Math.min(r.departureX,i-4)} y="11" text-anchor="end">${this._t("legend_departure")} ${o(a.departure)}</text>`:p}
            <line class="axis" x1="0" x2=${i} y1=${r.plotHeight} y2=${r.plotHeight}></line>
            ${r.ticks.map(l=>y`<line class="tick" x1=${l.x} x2=${l.x} y1=${r.plotHeight} y2=${r.plotHeight+4}></line>
                <text class="tick-label" x=${Math.min(Math.max(l.x,26),i-26)} y=${n-3} text-anchor="middle">${o(l.time)}</text>`)}
            ${r.maxPrice!==null?y`<text class="scale" x="3" y=${Math.min(...r.prices.map(l=>l.y))-4}>${B(r.maxPrice,c,t)}</text>`:p}
          </svg>
        </div>
        <div class="legend">
          <span><i class="swatch price"></i>${this._t("legend_price")}</span>
          ${r.bars.length?d`<span><i class="swatch bar"></i>${this._t("legend_power")}</span>`:p}
          ${r.caps.length?d`<span><i class="swatch cap"></i>${this._t("legend_cap")}</span>`:p}
        </div>
      </section>
    `}_renderHistory(e){let t=this._lang;return d`
      <section class="history" aria-labelledby="pev-history-title">
        <div class="section-head">
          <h3 id="pev-history-title">${this._t("history")}</h3>
          <button class="link" data-test="export" ?disabled=${this._busy!==void 0} @click=${()=>this._export(e)}>
            ${this._t("export_csv")}
          </button>
        </div>
        ${e.sessions.length?e.sessions.map(i=>this._renderSession(e,i,t)):d`<div class="empty">${this._t("no_history")}</div>`}
      </section>
    `}_renderSession(e,t,i){let n=this._intervals[t.session_id],r=t.data_quality??"OK";return d`
      <details class="session" data-test="session" @toggle=${a=>this._toggleSession(t,a)}>
        <summary>
          <span class="when">${D(t.started_at,i,this._tz)}</span>
          <span class="who">${t.vehicle??t.pev_id??this._t("unknown_vehicle")}</span>
          <span class="num">${me(t.energy_kwh,i)}</span>
          <span class="num">${R(t.cost,t.currency,i)}</span>
          <span class="quality quality-${r}" title=${this._t("quality")}>${this._t(`quality.${r}`)}</span>
        </summary>
        <div class="intervals">
          ${n===void 0||n==="loading"?d`<div class="empty">${this._t("loading")}</div>`:typeof n=="string"?d`<div class="empty error">${this._t("error",{message:n})}</div>`:n.intervals.length===0?d`<div class="empty">${this._t("no_intervals")}</div>`:d`<table data-test="intervals">
                    <thead>
                      <tr><th scope="col">${this._t("time")}</th><th scope="col">${this._t("energy")}</th><th scope="col">${this._t("price")}</th><th scope="col">${this._t("cost")}</th><th scope="col">${this._t("quality")}</th></tr>
                    </thead>
                    <tbody>
                      ${n.intervals.map(a=>d`<tr>
                          <td>${F(a.start,i,this._tz)}–${F(a.end,i,this._tz)}</td>
                          <td class="num">${V(a.kwh,i,3)}</td>
                          <td class="num">${R(a.price,n.currency,i,4)}</td>
                          <td class="num">${R(a.cost,n.currency,i)}</td>
                          <td>${this._t(`quality.${a.quality}`)}</td>
                        </tr>`)}
                    </tbody>
                  </table>`}
          <button class="link" @click=${()=>this._export(e,t.session_id)}>${this._t("export_session")}</button>
        </div>
      </details>
    `}_renderEventForm(e){let t=this._busy!==void 0,i=this._eventKind;return d`
      <details class="event-form" data-test="event-form">
        <summary>${this._t("add_event")}</summary>
        <div class="form">
          <div class="field">
            <label for="pev-event-kind">${this._t("event_kind")}</label>
            <select id="pev-event-kind" @change=${n=>this._eventKind=n.target.value}>
              <option value="price" ?selected=${i==="price"}>${this._t("kind.price")}</option>
              <option value="load_control" ?selected=${i==="load_control"}>${this._t("kind.load_control")}</option>
            </select>
          </div>
          <div class="field">
            <label for="pev-event-name">${this._t("event_name")}</label>
            <input id="pev-event-name" type="text" />
          </div>
          <div class="field">
            <label for="pev-event-duration">${this._t("event_duration")}</label>
            <input id="pev-event-duration" type="number" min="0.25" step="0.25" value="1" />
          </div>
          ${i==="price"?d`<div class="field">
                <label for="pev-event-price">${this._t("event_price")} (${e.price.currency})</label>
                <input id="pev-event-price" type="number" min="0" step="0.01" value="0.60" />
              </div>`:d`<div class="field">
                <label for="pev-event-limit">${this._t("event_limit")}</label>
                <input id="pev-event-limit" type="number" min="0" step="0.1" value="3.7" />
              </div>`}
          <div class="buttons">
            <button class="primary" data-test="add-event" ?disabled=${t} @click=${()=>this._addEvent(e)}>${this._t("add")}</button>
          </div>
        </div>
      </details>
    `}};W.properties={hass:{attribute:!1},_config:{state:!0},_data:{state:!0},_error:{state:!0},_status:{state:!0},_busy:{state:!0},_intervals:{state:!0},_width:{state:!0},_eventKind:{state:!0}},W.styles=te`
    :host {
      --pev-gap: 12px;
      --pev-accent: var(--primary-color, #03a9f4);
      --pev-muted: var(--secondary-text-color, #727272);
      --pev-divider: var(--divider-color, rgba(127, 127, 127, 0.25));
      --pev-price: var(--pev-price-color, var(--warning-color, #ffa600));
      --pev-cap: var(--error-color, #db4437);
      display: block;
    }
    ha-card {
      padding: 16px;
      color: var(--primary-text-color);
      box-sizing: border-box;
      overflow: hidden;
    }
    h2,
    h3 {
      margin: 0;
      font-weight: 500;
    }
    h2 {
      font-size: 1.25rem;
      line-height: 1.3;
    }
    h3 {
      font-size: 1rem;
    }
    .message {
      padding: 8px 0;
    }
    .error,
    .failed {
      color: var(--error-color, #db4437);
    }
    .header {
      display: flex;
      align-items: flex-start;
      justify-content: space-between;
      gap: var(--pev-gap);
    }
    .sub,
    .hint,
    .label,
    .plan-info,
    .legend,
    .empty {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .chip {
      flex: none;
      padding: 4px 10px;
      border-radius: 14px;
      font-size: 0.85rem;
      font-weight: 500;
      background: var(--pev-divider);
    }
    .chip.state-charging {
      background: var(--success-color, #43a047);
      color: var(--text-primary-color, #fff);
    }
    .chip.state-paused,
    .chip.state-waiting,
    .chip.state-validating {
      background: var(--warning-color, #ffa600);
      color: var(--text-primary-color, #fff);
    }
    .chip.state-fault {
      background: var(--error-color, #db4437);
      color: var(--text-primary-color, #fff);
    }
    .binding {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 10px;
      margin-top: 8px;
      align-items: center;
    }
    .vehicle {
      font-weight: 500;
    }
    .outcome {
      padding: 2px 8px;
      border-radius: 10px;
      border: 1px solid var(--pev-accent);
      color: var(--pev-accent);
      font-size: 0.85rem;
    }
    .outcome-no_communications,
    .outcome-not_enrolled {
      border-color: var(--warning-color, #ffa600);
      color: var(--warning-color, #ffa600);
    }
    .party {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .banner {
      display: flex;
      gap: 10px;
      align-items: center;
      margin-top: var(--pev-gap);
      padding: 10px 12px;
      border-radius: 8px;
      border-left: 4px solid var(--info-color, #039be5);
      background: color-mix(in srgb, var(--info-color, #039be5) 12%, transparent);
    }
    .banner.active {
      border-left-color: var(--warning-color, #ffa600);
      background: color-mix(in srgb, var(--warning-color, #ffa600) 16%, transparent);
    }
    .banner-text {
      flex: 1;
      min-width: 0;
    }
    .banner-title {
      font-weight: 500;
    }
    .banner-details {
      font-size: 0.85rem;
    }
    .stats {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(100px, 1fr));
      gap: var(--pev-gap);
      margin-top: var(--pev-gap);
    }
    .stat .value {
      font-size: 1.3rem;
      font-weight: 500;
      font-variant-numeric: tabular-nums;
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: var(--pev-gap);
      align-items: flex-end;
      margin-top: var(--pev-gap);
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 4px;
      min-width: 140px;
      flex: 1 1 140px;
    }
    .field label {
      font-size: 0.85rem;
      color: var(--pev-muted);
    }
    .inline {
      display: flex;
      gap: 6px;
    }
    .inline input {
      flex: 1;
      min-width: 0;
    }
    .buttons {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
    }
    select,
    input {
      font: inherit;
      color: var(--primary-text-color);
      background: var(--input-fill-color, var(--secondary-background-color, transparent));
      border: 1px solid var(--pev-divider);
      border-radius: 6px;
      padding: 8px;
      min-height: 40px;
      box-sizing: border-box;
    }
    button {
      font: inherit;
      font-weight: 500;
      border-radius: 20px;
      padding: 8px 16px;
      min-height: 40px;
      cursor: pointer;
      border: 1px solid var(--pev-accent);
    }
    button.primary {
      background: var(--pev-accent);
      color: var(--text-primary-color, #fff);
    }
    button.secondary {
      background: transparent;
      color: var(--pev-accent);
    }
    button.link {
      border: none;
      background: none;
      color: var(--pev-accent);
      padding: 4px 6px;
      min-height: 32px;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button:focus-visible,
    select:focus-visible,
    input:focus-visible,
    summary:focus-visible {
      outline: 2px solid var(--pev-accent);
      outline-offset: 2px;
    }
    .status {
      min-height: 1.2em;
      margin-top: 8px;
      font-size: 0.9rem;
    }
    .status.ok {
      color: var(--success-color, #43a047);
    }
    section {
      margin-top: var(--pev-gap);
      border-top: 1px solid var(--pev-divider);
      padding-top: var(--pev-gap);
    }
    .section-head {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 8px;
    }
    .ready {
      font-weight: 500;
      color: var(--pev-accent);
    }
    .warn {
      color: var(--warning-color, #ffa600);
    }
    .plan-info {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 12px;
      margin: 4px 0 8px;
    }
    .chart {
      width: 100%;
      overflow: hidden;
    }
    .chart svg {
      display: block;
    }
    .chart .price,
    .swatch.price {
      fill: var(--pev-price);
      background: var(--pev-price);
      opacity: 0.45;
    }
    .chart .bar,
    .swatch.bar {
      fill: var(--pev-accent);
      background: var(--pev-accent);
    }
    .chart .cap-bg {
      fill: color-mix(in srgb, var(--pev-cap) 10%, transparent);
    }
    .chart .cap-line {
      stroke: color-mix(in srgb, var(--pev-cap) 45%, transparent);
      stroke-width: 2;
    }
    .swatch.cap {
      background: color-mix(in srgb, var(--pev-cap) 35%, transparent);
    }
    .chart .cap-limit {
      stroke: var(--pev-cap);
      stroke-width: 1.5;
    }
    .chart .now {
      stroke: var(--primary-text-color);
      stroke-width: 1;
      opacity: 0.6;
    }
    .chart .departure {
      stroke: var(--pev-accent);
      stroke-width: 1.5;
      stroke-dasharray: 4 3;
    }
    .chart .axis,
    .chart .tick {
      stroke: var(--pev-divider);
    }
    .chart text {
      fill: var(--pev-muted);
      font-size: 10px;
      font-family: inherit;
    }
    .chart .departure-label {
      fill: var(--pev-accent);
    }
    .legend {
      display: flex;
      gap: 12px;
      margin-top: 4px;
    }
    .swatch {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
      vertical-align: middle;
    }
    details.session {
      border-bottom: 1px solid var(--pev-divider);
    }
    details summary {
      cursor: pointer;
      padding: 8px 0;
    }
    details.session summary {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 10px;
      align-items: baseline;
    }
    details.session summary::before {
      content: "▸";
      color: var(--pev-muted);
    }
    details.session[open] summary::before {
      content: "▾";
    }
    details.session summary::-webkit-details-marker {
      display: none;
    }
    .when {
      color: var(--pev-muted);
      font-size: 0.85rem;
    }
    .who {
      flex: 1;
      min-width: 80px;
    }
    .num {
      font-variant-numeric: tabular-nums;
      text-align: right;
    }
    .quality {
      font-size: 0.75rem;
      padding: 1px 6px;
      border-radius: 8px;
      background: var(--pev-divider);
    }
    .quality-ESTIMATED {
      background: color-mix(in srgb, var(--warning-color, #ffa600) 30%, transparent);
    }
    .quality-MISSING {
      background: color-mix(in srgb, var(--error-color, #db4437) 30%, transparent);
    }
    .intervals {
      overflow-x: auto;
      padding-bottom: 8px;
    }
    table {
      border-collapse: collapse;
      width: 100%;
      font-size: 0.85rem;
    }
    th,
    td {
      padding: 3px 6px;
      text-align: left;
      border-bottom: 1px solid var(--pev-divider);
      white-space: nowrap;
    }
    th {
      color: var(--pev-muted);
      font-weight: 500;
    }
    .event-form {
      margin-top: var(--pev-gap);
      border-top: 1px solid var(--pev-divider);
    }
    .event-form .form {
      display: flex;
      flex-wrap: wrap;
      gap: var(--pev-gap);
      align-items: flex-end;
      padding-bottom: 4px;
    }
  `;function ge(){window.customElements.get(K)||window.customElements.define(K,W)}function je(){let s=["home-assistant","hc-main"].find(e=>document.querySelector(e));s&&!window.customElements.get(s)?window.customElements.whenDefined(s).then(ge,ge):ge()}document.readyState==="loading"?document.addEventListener("DOMContentLoaded",je,{once:!0}):je();window.customCards=window.customCards??[];window.customCards.some(s=>s.type===K)||window.customCards.push({type:K,name:j(navigator.language,"card_name"),description:j(navigator.language,"card_description"),preview:!0,documentationURL:"https://github.com/pev-portal/pev-portal/blob/main/docs/user-guide.md#dashboard"});console.info(`%c PEV-PORTAL-CARD %c ${pt} `,"background:#03a9f4;color:#fff","");export{W as PevPortalCard};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/

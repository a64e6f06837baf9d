var ae=globalThis,oe=ae.ShadowRoot&&(ae.ShadyCSS===void 0||ae.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,$e=Symbol(),et=new WeakMap,V=class{constructor(e,t,n){if(this._$cssResult$=!0,n!==$e)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=e,this.t=t}get styleSheet(){let e=this.o,t=this.t;if(oe&&e===void 0){let n=t!==void 0&&t.length===1;n&&(e=et.get(t)),e===void 0&&((this.o=e=new CSSStyleSheet).replaceSync(this.cssText),n&&et.set(t,e))}return e}toString(){return this.cssText}},tt=i=>new V(typeof i=="string"?i:i+"",void 0,$e),F=(i,...e)=>{let t=i.length===1?i[0]:e.reduce((n,r,a)=>n+(s=>{if(s._$cssResult$===!0)return s.cssText;if(typeof s=="number")return s;throw Error("Value passed to 'css' function must be a 'css' function result: "+s+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(r)+i[a+1],i[0]);return new V(t,i,$e)},it=(i,e)=>{if(oe)i.adoptedStyleSheets=e.map(t=>t instanceof CSSStyleSheet?t:t.styleSheet);else for(let t of e){let n=document.createElement("style"),r=ae.litNonce;r!==void 0&&n.setAttribute("nonce",r),n.textContent=t.cssText,i.appendChild(n)}},xe=oe?i=>i:i=>i instanceof CSSStyleSheet?(e=>{let t="";for(let n of e.cssRules)t+=n.cssText;return tt(t)})(i):i;var{is:Yt,defineProperty:Zt,getOwnPropertyDescriptor:Jt,getOwnPropertyNames:Qt,getOwnPropertySymbols:ei,getPrototypeOf:ti}=Object,le=globalThis,nt=le.trustedTypes,ii=nt?nt.emptyScript:"",ni=le.reactiveElementPolyfillSupport,B=(i,e)=>i,we={toAttribute(i,e){switch(e){case Boolean:i=i?ii:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,e){let t=i;switch(e){case Boolean:t=i!==null;break;case Number:t=i===null?null:Number(i);break;case Object:case Array:try{t=JSON.parse(i)}catch{t=null}}return t}},st=(i,e)=>!Yt(i,e),rt={attribute:!0,type:String,converter:we,reflect:!1,useDefault:!1,hasChanged:st};Symbol.metadata??=Symbol("metadata"),le.litPropertyMetadata??=new WeakMap;var C=class extends HTMLElement{static addInitializer(e){this._$Ei(),(this.l??=[]).push(e)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(e,t=rt){if(t.state&&(t.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(e)&&((t=Object.create(t)).wrapped=!0),this.elementProperties.set(e,t),!t.noAccessor){let n=Symbol(),r=this.getPropertyDescriptor(e,n,t);r!==void 0&&Zt(this.prototype,e,r)}}static getPropertyDescriptor(e,t,n){let{get:r,set:a}=Jt(this.prototype,e)??{get(){return this[t]},set(s){this[t]=s}};return{get:r,set(s){let l=r?.call(this);a?.call(this,s),this.requestUpdate(e,l,n)},configurable:!0,enumerable:!0}}static getPropertyOptions(e){return this.elementProperties.get(e)??rt}static _$Ei(){if(this.hasOwnProperty(B("elementProperties")))return;let e=ti(this);e.finalize(),e.l!==void 0&&(this.l=[...e.l]),this.elementProperties=new Map(e.elementProperties)}static finalize(){if(this.hasOwnProperty(B("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(B("properties"))){let t=this.properties,n=[...Qt(t),...ei(t)];for(let r of n)this.createProperty(r,t[r])}let e=this[Symbol.metadata];if(e!==null){let t=litPropertyMetadata.get(e);if(t!==void 0)for(let[n,r]of t)this.elementProperties.set(n,r)}this._$Eh=new Map;for(let[t,n]of this.elementProperties){let r=this._$Eu(t,n);r!==void 0&&this._$Eh.set(r,t)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(e){let t=[];if(Array.isArray(e)){let n=new Set(e.flat(1/0).reverse());for(let r of n)t.unshift(xe(r))}else e!==void 0&&t.push(xe(e));return t}static _$Eu(e,t){let n=t.attribute;return n===!1?void 0:typeof n=="string"?n:typeof e=="string"?e.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(e=>this.enableUpdating=e),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(e=>e(this))}addController(e){(this._$EO??=new Set).add(e),this.renderRoot!==void 0&&this.isConnected&&e.hostConnected?.()}removeController(e){this._$EO?.delete(e)}_$E_(){let e=new Map,t=this.constructor.elementProperties;for(let n of t.keys())this.hasOwnProperty(n)&&(e.set(n,this[n]),delete this[n]);e.size>0&&(this._$Ep=e)}createRenderRoot(){let e=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return it(e,this.constructor.elementStyles),e}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(e=>e.hostConnected?.())}enableUpdating(e){}disconnectedCallback(){this._$EO?.forEach(e=>e.hostDisconnected?.())}attributeChangedCallback(e,t,n){this._$AK(e,n)}_$ET(e,t){let n=this.constructor.elementProperties.get(e),r=this.constructor._$Eu(e,n);if(r!==void 0&&n.reflect===!0){let a=(n.converter?.toAttribute!==void 0?n.converter:we).toAttribute(t,n.type);this._$Em=e,a==null?this.removeAttribute(r):this.setAttribute(r,a),this._$Em=null}}_$AK(e,t){let n=this.constructor,r=n._$Eh.get(e);if(r!==void 0&&this._$Em!==r){let a=n.getPropertyOptions(r),s=typeof a.converter=="function"?{fromAttribute:a.converter}:a.converter?.fromAttribute!==void 0?a.converter:we;this._$Em=r;let l=s.fromAttribute(t,a.type);this[r]=l??this._$Ej?.get(r)??l,this._$Em=null}}requestUpdate(e,t,n,r=!1,a){if(e!==void 0){let s=this.constructor;if(r===!1&&(a=this[e]),n??=s.getPropertyOptions(e),!((n.hasChanged??st)(a,t)||n.useDefault&&n.reflect&&a===this._$Ej?.get(e)&&!this.hasAttribute(s._$Eu(e,n))))return;this.C(e,t,n)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(e,t,{useDefault:n,reflect:r,wrapped:a},s){n&&!(this._$Ej??=new Map).has(e)&&(this._$Ej.set(e,s??t??this[e]),a!==!0||s!==void 0)||(this._$AL.has(e)||(this.hasUpdated||n||(t=void 0),this._$AL.set(e,t)),r===!0&&this._$Em!==e&&(this._$Eq??=new Set).add(e))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(t){Promise.reject(t)}let e=this.scheduleUpdate();return e!=null&&await e,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[r,a]of this._$Ep)this[r]=a;this._$Ep=void 0}let n=this.constructor.elementProperties;if(n.size>0)for(let[r,a]of n){let{wrapped:s}=a,l=this[r];s!==!0||this._$AL.has(r)||l===void 0||this.C(r,void 0,a,l)}}let e=!1,t=this._$AL;try{e=this.shouldUpdate(t),e?(this.willUpdate(t),this._$EO?.forEach(n=>n.hostUpdate?.()),this.update(t)):this._$EM()}catch(n){throw e=!1,this._$EM(),n}e&&this._$AE(t)}willUpdate(e){}_$AE(e){this._$EO?.forEach(t=>t.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(e)),this.updated(e)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(e){return!0}update(e){this._$Eq&&=this._$Eq.forEach(t=>this._$ET(t,this[t])),this._$EM()}updated(e){}firstUpdated(e){}};C.elementStyles=[],C.shadowRootOptions={mode:"open"},C[B("elementProperties")]=new Map,C[B("finalized")]=new Map,ni?.({ReactiveElement:C}),(le.reactiveElementVersions??=[]).push("2.1.2");var De=globalThis,at=i=>i,de=De.trustedTypes,ot=de?de.createPolicy("lit-html",{createHTML:i=>i}):void 0,ht="$lit$",R=`lit$${Math.random().toFixed(9).slice(2)}$`,mt="?"+R,ri=`<${mt}>`,N=document,K=()=>N.createComment(""),W=i=>i===null||typeof i!="object"&&typeof i!="function",Te=Array.isArray,si=i=>Te(i)||typeof i?.[Symbol.iterator]=="function",ke=`[ 	
\f\r]`,j=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,lt=/-->/g,dt=/>/g,L=RegExp(`>|${ke}(?:([^\\s"'>=/]+)(${ke}*=${ke}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),ct=/'/g,pt=/"/g,ft=/^(?:script|style|textarea|title)$/i,Re=i=>(e,...t)=>({_$litType$:i,strings:e,values:t}),c=Re(1),x=Re(2),Si=Re(3),M=Symbol.for("lit-noChange"),p=Symbol.for("lit-nothing"),ut=new WeakMap,O=N.createTreeWalker(N,129);function gt(i,e){if(!Te(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return ot!==void 0?ot.createHTML(e):e}var ai=(i,e)=>{let t=i.length-1,n=[],r,a=e===2?"<svg>":e===3?"<math>":"",s=j;for(let l=0;l<t;l++){let o=i[l],h,d,f=-1,v=0;for(;v<o.length&&(s.lastIndex=v,d=s.exec(o),d!==null);)v=s.lastIndex,s===j?d[1]==="!--"?s=lt:d[1]!==void 0?s=dt:d[2]!==void 0?(ft.test(d[2])&&(r=RegExp("</"+d[2],"g")),s=L):d[3]!==void 0&&(s=L):s===L?d[0]===">"?(s=r??j,f=-1):d[1]===void 0?f=-2:(f=s.lastIndex-d[2].length,h=d[1],s=d[3]===void 0?L:d[3]==='"'?pt:ct):s===pt||s===ct?s=L:s===lt||s===dt?s=j:(s=L,r=void 0);let b=s===L&&i[l+1].startsWith("/>")?" ":"";a+=s===j?o+ri:f>=0?(n.push(h),o.slice(0,f)+ht+o.slice(f)+R+b):o+R+(f===-2?l:b)}return[gt(i,a+(i[t]||"<?>")+(e===2?"</svg>":e===3?"</math>":"")),n]},G=class i{constructor({strings:e,_$litType$:t},n){let r;this.parts=[];let a=0,s=0,l=e.length-1,o=this.parts,[h,d]=ai(e,t);if(this.el=i.createElement(h,n),O.currentNode=this.el.content,t===2||t===3){let f=this.el.content.firstChild;f.replaceWith(...f.childNodes)}for(;(r=O.nextNode())!==null&&o.length<l;){if(r.nodeType===1){if(r.hasAttributes())for(let f of r.getAttributeNames())if(f.endsWith(ht)){let v=d[s++],b=r.getAttribute(f).split(R),y=/([.?@])?(.*)/.exec(v);o.push({type:1,index:a,name:y[2],strings:b,ctor:y[1]==="."?Ee:y[1]==="?"?Ce:y[1]==="@"?Ae:U}),r.removeAttribute(f)}else f.startsWith(R)&&(o.push({type:6,index:a}),r.removeAttribute(f));if(ft.test(r.tagName)){let f=r.textContent.split(R),v=f.length-1;if(v>0){r.textContent=de?de.emptyScript:"";for(let b=0;b<v;b++)r.append(f[b],K()),O.nextNode(),o.push({type:2,index:++a});r.append(f[v],K())}}}else if(r.nodeType===8)if(r.data===mt)o.push({type:2,index:a});else{let f=-1;for(;(f=r.data.indexOf(R,f+1))!==-1;)o.push({type:7,index:a}),f+=R.length-1}a++}}static createElement(e,t){let n=N.createElement("template");return n.innerHTML=e,n}};function H(i,e,t=i,n){if(e===M)return e;let r=n!==void 0?t._$Co?.[n]:t._$Cl,a=W(e)?void 0:e._$litDirective$;return r?.constructor!==a&&(r?._$AO?.(!1),a===void 0?r=void 0:(r=new a(i),r._$AT(i,t,n)),n!==void 0?(t._$Co??=[])[n]=r:t._$Cl=r),r!==void 0&&(e=H(i,r._$AS(i,e.values),r,n)),e}var Se=class{constructor(e,t){this._$AV=[],this._$AN=void 0,this._$AD=e,this._$AM=t}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(e){let{el:{content:t},parts:n}=this._$AD,r=(e?.creationScope??N).importNode(t,!0);O.currentNode=r;let a=O.nextNode(),s=0,l=0,o=n[0];for(;o!==void 0;){if(s===o.index){let h;o.type===2?h=new X(a,a.nextSibling,this,e):o.type===1?h=new o.ctor(a,o.name,o.strings,this,e):o.type===6&&(h=new Pe(a,this,e)),this._$AV.push(h),o=n[++l]}s!==o?.index&&(a=O.nextNode(),s++)}return O.currentNode=N,r}p(e){let t=0;for(let n of this._$AV)n!==void 0&&(n.strings!==void 0?(n._$AI(e,n,t),t+=n.strings.length-2):n._$AI(e[t])),t++}},X=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(e,t,n,r){this.type=2,this._$AH=p,this._$AN=void 0,this._$AA=e,this._$AB=t,this._$AM=n,this.options=r,this._$Cv=r?.isConnected??!0}get parentNode(){let e=this._$AA.parentNode,t=this._$AM;return t!==void 0&&e?.nodeType===11&&(e=t.parentNode),e}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(e,t=this){e=H(this,e,t),W(e)?e===p||e==null||e===""?(this._$AH!==p&&this._$AR(),this._$AH=p):e!==this._$AH&&e!==M&&this._(e):e._$litType$!==void 0?this.$(e):e.nodeType!==void 0?this.T(e):si(e)?this.k(e):this._(e)}O(e){return this._$AA.parentNode.insertBefore(e,this._$AB)}T(e){this._$AH!==e&&(this._$AR(),this._$AH=this.O(e))}_(e){this._$AH!==p&&W(this._$AH)?this._$AA.nextSibling.data=e:this.T(N.createTextNode(e)),this._$AH=e}$(e){let{values:t,_$litType$:n}=e,r=typeof n=="number"?this._$AC(e):(n.el===void 0&&(n.el=G.createElement(gt(n.h,n.h[0]),this.options)),n);if(this._$AH?._$AD===r)this._$AH.p(t);else{let a=new Se(r,this),s=a.u(this.options);a.p(t),this.T(s),this._$AH=a}}_$AC(e){let t=ut.get(e.strings);return t===void 0&&ut.set(e.strings,t=new G(e)),t}k(e){Te(this._$AH)||(this._$AH=[],this._$AR());let t=this._$AH,n,r=0;for(let a of e)r===t.length?t.push(n=new i(this.O(K()),this.O(K()),this,this.options)):n=t[r],n._$AI(a),r++;r<t.length&&(this._$AR(n&&n._$AB.nextSibling,r),t.length=r)}_$AR(e=this._$AA.nextSibling,t){for(this._$AP?.(!1,!0,t);e!==this._$AB;){let n=at(e).nextSibling;at(e).remove(),e=n}}setConnected(e){this._$AM===void 0&&(this._$Cv=e,this._$AP?.(e))}},U=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(e,t,n,r,a){this.type=1,this._$AH=p,this._$AN=void 0,this.element=e,this.name=t,this._$AM=r,this.options=a,n.length>2||n[0]!==""||n[1]!==""?(this._$AH=Array(n.length-1).fill(new String),this.strings=n):this._$AH=p}_$AI(e,t=this,n,r){let a=this.strings,s=!1;if(a===void 0)e=H(this,e,t,0),s=!W(e)||e!==this._$AH&&e!==M,s&&(this._$AH=e);else{let l=e,o,h;for(e=a[0],o=0;o<a.length-1;o++)h=H(this,l[n+o],t,o),h===M&&(h=this._$AH[o]),s||=!W(h)||h!==this._$AH[o],h===p?e=p:e!==p&&(e+=(h??"")+a[o+1]),this._$AH[o]=h}s&&!r&&this.j(e)}j(e){e===p?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,e??"")}},Ee=class extends U{constructor(){super(...arguments),this.type=3}j(e){this.element[this.name]=e===p?void 0:e}},Ce=class extends U{constructor(){super(...arguments),this.type=4}j(e){this.element.toggleAttribute(this.name,!!e&&e!==p)}},Ae=class extends U{constructor(e,t,n,r,a){super(e,t,n,r,a),this.type=5}_$AI(e,t=this){if((e=H(this,e,t,0)??p)===M)return;let n=this._$AH,r=e===p&&n!==p||e.capture!==n.capture||e.once!==n.once||e.passive!==n.passive,a=e!==p&&(n===p||r);r&&this.element.removeEventListener(this.name,this,n),a&&this.element.addEventListener(this.name,this,e),this._$AH=e}handleEvent(e){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,e):this._$AH.handleEvent(e)}},Pe=class{constructor(e,t,n){this.element=e,this.type=6,this._$AN=void 0,this._$AM=t,this.options=n}get _$AU(){return this._$AM._$AU}_$AI(e){H(this,e)}};var oi=De.litHtmlPolyfillSupport;oi?.(G,X),(De.litHtmlVersions??=[]).push("3.3.3");var _t=(i,e,t)=>{let n=t?.renderBefore??e,r=n._$litPart$;if(r===void 0){let a=t?.renderBefore??null;n._$litPart$=r=new X(e.insertBefore(K(),a),a,void 0,t??{})}return r._$AI(i),r};var ze=globalThis,k=class extends C{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let e=super.createRenderRoot();return this.renderOptions.renderBefore??=e.firstChild,e}update(e){let t=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(e),this._$Do=_t(t,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return M}};k._$litElement$=!0,k.finalized=!0,ze.litElementHydrateSupport?.({LitElement:k});var li=ze.litElementPolyfillSupport;li?.({LitElement:k});(ze.litElementVersions??=[]).push("4.2.2");function _(i){if(!i)return null;let e=Date.parse(i);return Number.isNaN(e)?null:e}function di(i){let e=i.now.getTime(),t=i.plan?.slots??[],n=t.map(o=>_(o.start)).filter(o=>o!==null),r=t.map(o=>_(o.end)).filter(o=>o!==null),a=Math.min(e,...n),s;if(r.length)s=Math.max(...r,_(i.plan?.departure)??0,_(i.plan?.ready_by)??0);else{let o=Math.max(0,...i.prices.map(h=>_(h.end)??0));s=o>a?Math.min(o,a+864e5):a+864e5}let l=_(i.plan?.departure);return l!==null&&l>s&&(s=l),s-a<36e5&&(s=a+36e5),{start:a,end:s}}function ci(i,e,t){let n=e-i,r=Math.max(1,Math.floor(t/56)),a=[1,2,3,6,12,24].find(o=>n/(o*36e5)<=r)??24,s=Math.ceil(i/(a*36e5))*a*36e5,l=[];for(let o=s;o<=e;o+=a*36e5)l.push(o);return l}function vt(i,e){let{width:t}=e,n=e.axis??18,r=Math.max(10,e.height-n),a=Math.min(e.top??16,r/2),s=r-a,l=s*(e.priceShare??.45),{start:o,end:h}=di(i),d=u=>(u-o)/(h-o)*t,f=(u,g)=>{if(u===null||g===null)return null;let $=Math.max(u,o),T=Math.min(g,h);return T>$?[$,T]:null},v=i.prices.filter(u=>f(_(u.start),_(u.end))).map(u=>u.price),b=v.length?Math.min(...v):null,y=v.length?Math.max(...v):null,fe=[];for(let u of i.prices){let g=f(_(u.start),_(u.end));if(!g||b===null||y===null)continue;let $=y>b?.25+.75*(u.price-b)/(y-b):.5,T=l*$;fe.push({x:d(g[0]),width:d(g[1])-d(g[0]),y:r-T,height:T,price:u.price,period:u.period})}let ge=i.plan?.slots??[],Xt=i.caps.map(u=>u.limit_kw??0),_e=Math.max(1,...ge.map(u=>u.power_kw||0),...Xt)*1.1,je=ge.filter(u=>(u.feed_kw??0)>0&&f(_(u.start),_(u.end))),ve=je.length?Math.max(...je.map(u=>u.feed_kw))*1.1:0,ne=s/(_e+ve),re=r-ve*ne,Ke=[],We=[];for(let u of ge){let g=f(_(u.start),_(u.end));if(!g)continue;let $=d(g[0]),T=Math.max(1,d(g[1])-$-1);if(u.power_kw>0){let Qe=ne*u.power_kw;Ke.push({x:$,y:re-Qe,width:T,height:Qe,power:u.power_kw})}let ye=u.feed_kw??0;ye>0&&We.push({x:$,y:re,width:T,height:ne*ye,feed:ye})}let Ge=[],Xe=[...i.caps];for(let u of i.events)u&&u.kind==="load_control"&&!i.caps.some(g=>g.start===u.start)&&Xe.push({start:u.start,end:u.end,limit_kw:u.limit_kw??null,name:u.name??null});for(let u of Xe){let g=f(_(u.start),_(u.end));if(!g)continue;let $=u.limit_kw??null;Ge.push({x:d(g[0]),y:0,width:d(g[1])-d(g[0]),height:r,limit:$,limitY:$===null?null:re-ne*Math.min($,_e),name:u.name??null})}let Ye=u=>{let g=_(u);return g!==null&&g>=o&&g<=h?d(g):null},be=i.now.getTime(),se=Ye(i.plan?.departure),Ze=null,Je=fe.find(u=>u.price===y);if(Je&&y!==null){let u=Math.min(Math.max(Je.x+2,2),Math.max(2,t-84));se!==null&&u+84>se-120&&u<se&&(u=2),Ze={x:u,y:Math.max(9,a-5),price:y}}return{width:t,height:e.height,plotHeight:r,top:a,start:o,end:h,prices:fe,bars:Ke,feedBars:We,zeroY:re,caps:Ge,nowX:be>=o&&be<=h?d(be):null,departureX:se,readyByX:Ye(i.plan?.ready_by),ticks:ci(o,h,t).map(u=>({x:d(u),time:new Date(u).toISOString()})),maxPower:_e,maxFeed:ve,minPrice:b,maxPrice:y,priceLabel:Ze}}function Y(){return typeof customElements<"u"&&customElements.get("ha-selector")!==void 0}function Z(i,e,t){return c`<div class="field"><ha-selector
    id=${i.id}
    class="control ${t}"
    data-control=${t}
    .hass=${i.hass}
    .selector=${e}
    .value=${i.value}
    .label=${i.label}
    .required=${t==="select"}
    .disabled=${!!i.disabled}
    @value-changed=${n=>{n.stopPropagation();let r=n.detail?.value??(t==="text"?"":void 0);r!=null&&r!==i.value&&i.onChange(r)}}
  ></ha-selector></div>`}var J=i=>c`<label for=${i.id}>${i.label}</label>`;function pi(){let i=typeof customElements<"u"?customElements.get("ha-select"):void 0;return i!==void 0&&"options"in i.prototype&&"clearable"in i.prototype}function ce(i){return pi()?c`<div class="field"><ha-select
      id=${i.id}
      class="control select"
      data-control="select"
      .label=${i.label}
      .value=${i.value}
      .options=${i.options}
      .disabled=${!!i.disabled}
      @selected=${e=>{e.stopPropagation();let t=e.detail?.value;typeof t=="string"&&t!==i.value&&i.onChange(t)}}
    ></ha-select></div>`:Y()?Z(i,{select:{mode:"dropdown",options:i.options}},"select"):c`<div class="field">
    ${J(i)}
    <select
      id=${i.id}
      data-control="select"
      ?disabled=${i.disabled}
      @change=${e=>i.onChange(e.target.value)}
    >
      ${i.options.map(e=>c`<option value=${e.value} ?selected=${e.value===i.value}>${e.label}</option>`)}
    </select>
  </div>`}function bt(i){return Y()?Z(i,{time:{no_second:!0}},"time"):c`<div class="field">
    ${J(i)}
    <input
      id=${i.id}
      data-control="time"
      type="time"
      class="time"
      .value=${i.value.slice(0,5)}
      ?disabled=${i.disabled}
      @change=${e=>i.onChange(e.target.value)}
    />
  </div>`}function Q(i){if(Y()){let e={mode:"box",step:i.step??1};return i.min!==void 0&&(e.min=i.min),i.max!==void 0&&(e.max=i.max),i.unit&&(e.unit_of_measurement=i.unit),Z(i,{number:e},"number")}return c`<div class="field">
    ${J({id:i.id,label:i.unit?`${i.label} (${i.unit})`:i.label})}
    <input
      id=${i.id}
      data-control="number"
      type="number"
      min=${i.min??""}
      max=${i.max??""}
      step=${i.step??1}
      .value=${String(i.value)}
      ?disabled=${i.disabled}
      @change=${e=>{let t=Number(e.target.value);Number.isFinite(t)&&i.onChange(t)}}
    />
  </div>`}function yt(i){return Y()?Z(i,{text:{}},"text"):c`<div class="field">
    ${J(i)}
    <input
      id=${i.id}
      data-control="text"
      type="text"
      .value=${i.value}
      ?disabled=${i.disabled}
      @input=${e=>i.onChange(e.target.value)}
    />
  </div>`}function $t(i){return Y()?Z(i,{boolean:{}},"boolean"):c`<div class="field">
    ${J(i)}
    <input
      id=${i.id}
      data-control="boolean"
      type="checkbox"
      .checked=${i.value}
      ?disabled=${i.disabled}
      @change=${e=>i.onChange(e.target.checked)}
    />
  </div>`}var xt={event_history:"Event history","perf.line":"{when}: {outcome}","perf.shifted":"{kwh} shifted","perf.reduced":"{kwh} reduced","perf.no_baseline":"no baseline","perf.target_met":"target met","perf.target_missed":"target missed","perf.credit":"estimated credit {amount}",missing_charger:"The charger chosen for this card is no longer in PEV Portal. Edit the card to choose another one.",invalid_config:"Invalid card configuration","event.local_active":"Local event in progress: {name}","event.local_upcoming":"Upcoming local event: {name}","event.utility_active":"Utility event in progress: {name}","event.utility_upcoming":"Upcoming utility event: {name}",opted_out:"Opted out","mode.immediate":"Immediately","mode.cheapest":"Cheapest by departure","mode.solar":"Solar","mode.off":"Off","period.off_peak":"Off-peak","period.mid_peak":"Mid-peak","period.on_peak":"Peak","period.flat":"Flat rate","period.rtp":"Real-time price","period.critical_peak":"Critical peak",paused_plan:"Charging is paused: the plan resumes when you resume charging.","explain.cap":"{name} from {start} to {end} delays {kwh}","explain.circuit":"{name} shared with the other vehicles delays {kwh}","explain.combined":"together, {name} delay {kwh}","explain.departure":"departure at {start} leaves {kwh} short even at full power","explain.horizon":"the planning horizon ends at {start}, {kwh} short","explain.charger":"the charger's power steps leave {kwh} short","explain.mode":"charging is off ({kwh} not planned)","explain.other":"{name} delays {kwh}","explain.ready":"ready at {time}","explain.ready_instead":"ready at {time} instead of {without}","editor.missing_charger":"Charger no longer available",loading:"Loading…",no_charger:"No PEV Portal charger found. Set up PEV Portal first.",error:"Error: {message}","state.unplugged":"Unplugged","state.validating":"Validating","state.waiting":"Waiting","state.charging":"Charging","state.paused":"Paused","state.completed":"Completed","state.fault":"Fault","outcome.pending":"Validating","outcome.home":"Home","outcome.guest_premise_pays":"Guest, premise pays","outcome.guest_pev_pays":"Guest, vehicle owner pays","outcome.roaming":"Roaming","outcome.not_enrolled":"Not enrolled","outcome.no_communications":"No communications","party.premise_customer":"premise customer","party.pev_customer":"vehicle customer","party.clearinghouse":"clearinghouse (roaming)",billed_to:"billed to {party}",program_rate:"program rate",utility_link:"Utility link: {protocol}",utility_link_down:"Utility link: {protocol} (not reachable)",vehicle:"Vehicle",vehicle_auto:"Automatic",unknown_vehicle:"Unknown vehicle",no_vehicle:"No vehicle plugged in",power:"Power",energy:"Energy",cost:"Cost so far",price:"Price",period_until:"{period} until {time}",charge_now:"Charge now",pause:"Pause charging",resume:"Resume charging",charging_enabled:"Charging enabled",charge_mode:"Charge mode",departure:"Departure",target:"Target",set:"Set","event.until":"until {time}","event.from":"from {start} to {end}","event.level":"level {level}","event.price":"price {price}","event.limit":"limit {limit}","event.export_price":"export price {price}","event.export_limit":"export limit {limit}","event.cap_now":"Charging is capped at {limit}",opt_out:"Opt out",plan:"Plan",no_plan:"No charging plan: prices of the next 24 hours.",ready_by:"Ready by {time}",not_reachable:"Target not reachable by departure",plan_cost:"Plan cost {cost}",legend_price:"Price",legend_power:"Planned power",legend_cap:"Cap",legend_departure:"Departure",now:"now",history:"Last sessions",no_history:"No finished sessions yet.",intervals:"Intervals",no_intervals:"No intervals.","quality.OK":"OK","quality.ESTIMATED":"Estimated","quality.MISSING":"Missing",quality:"Data quality",time:"Time",export_csv:"Export CSV",export_session:"CSV",exported:"Export downloaded",add_event:"Add a local event",event_kind:"Kind","kind.price":"Price event","kind.load_control":"Load control","kind.export_price":"Export price","kind.export_limit":"Export limit",event_name:"Name",event_duration:"Duration",event_price:"Price",event_limit:"Power limit",add:"Add","done.vehicle":"Vehicle set to {vehicle}","done.charge_now":"Charging now","done.pause":"Charging paused","done.resume":"Charging resumed","done.opt_out":"Opted out of the event","opt_out.confirm":`Opting out: {consequence}
Opt out anyway?`,"event.consequence":"Opting out: {consequence}","done.event":"Event added","done.set":"{what} set",failed:"{action} failed: {message}","editor.device_id":"Charger","editor.title":"Title","editor.show_plan":"Show the plan","editor.show_history":"Show the last sessions","editor.show_event_form":"Show the local event form",card_name:"PEV Portal charger",card_description:"Shows and steers an EV charger under a utility program.",legend_feed:"Power fed back",fed:"Energy fed","feed.credit":"credit {amount}","feed.earned":"earned {amount}","feed.row":"{kwh} fed","feed.plan":"Feeds {kwh} back, credit {credit}","feed.plan_home":"{kwh} of it to the home","battery.title":"Battery use","battery.line":"{vehicle}: {use}","battery.cycles":"{cycles} cycles fed","battery.month":"{kwh} fed this month","battery.soh":"state of health {soh}",power_feed:"Power feed",power_feed_floor:"Power feed floor"},ui={event_history:"Ereignisse","perf.line":"{when}: {outcome}","perf.shifted":"{kwh} verschoben","perf.reduced":"{kwh} weniger","perf.no_baseline":"keine Referenz","perf.target_met":"Ziel erreicht","perf.target_missed":"Ziel verfehlt","perf.credit":"geschätzte Gutschrift {amount}",missing_charger:"Die für diese Karte gewählte Ladestation gibt es in PEV Portal nicht mehr. Bearbeite die Karte, um eine andere zu wählen.",invalid_config:"Ungültige Kartenkonfiguration","event.local_active":"Lokales Ereignis läuft: {name}","event.local_upcoming":"Bevorstehendes lokales Ereignis: {name}","event.utility_active":"Ereignis des Versorgers läuft: {name}","event.utility_upcoming":"Bevorstehendes Ereignis des Versorgers: {name}",opted_out:"Nicht teilgenommen","mode.immediate":"Sofort","mode.cheapest":"Am günstigsten bis zur Abfahrt","mode.solar":"Solar","mode.off":"Aus","period.off_peak":"Niedertarif","period.mid_peak":"Mitteltarif","period.on_peak":"Hochtarif","period.flat":"Einheitspreis","period.rtp":"Echtzeitpreis","period.critical_peak":"Kritische Spitze",paused_plan:"Laden ist pausiert: Der Plan gilt wieder, sobald du das Laden fortsetzt.","explain.cap":"{name} von {start} bis {end} verzögert {kwh}","explain.circuit":"{name}, geteilt mit den anderen Fahrzeugen, verzögert {kwh}","explain.combined":"zusammen verzögern {name} {kwh}","explain.departure":"bei Abfahrt um {start} fehlen selbst mit voller Leistung {kwh}","explain.horizon":"der Planungszeitraum endet um {start}, es fehlen {kwh}","explain.charger":"die Leistungsstufen der Ladestation lassen {kwh} offen","explain.mode":"Laden ist aus ({kwh} nicht geplant)","explain.other":"{name} verzögert {kwh}","explain.ready":"fertig um {time}","explain.ready_instead":"fertig um {time} statt {without}","editor.missing_charger":"Ladestation nicht mehr vorhanden",loading:"Wird geladen…",no_charger:"Keine PEV-Portal-Ladestation gefunden. Richte zuerst PEV Portal ein.",error:"Fehler: {message}","state.unplugged":"Nicht angesteckt","state.validating":"Wird geprüft","state.waiting":"Wartet","state.charging":"Lädt","state.paused":"Pausiert","state.completed":"Abgeschlossen","state.fault":"Störung","outcome.pending":"Wird geprüft","outcome.home":"Zuhause","outcome.guest_premise_pays":"Gast, Hausanschluss zahlt","outcome.guest_pev_pays":"Gast, Fahrzeughalter zahlt","outcome.roaming":"Roaming","outcome.not_enrolled":"Nicht angemeldet","outcome.no_communications":"Keine Verbindung","party.premise_customer":"Kunde des Hausanschlusses","party.pev_customer":"Fahrzeugkunde","party.clearinghouse":"Clearingstelle (Roaming)",billed_to:"abgerechnet an {party}",program_rate:"Programmtarif",utility_link:"Verbindung zum Versorger: {protocol}",utility_link_down:"Verbindung zum Versorger: {protocol} (nicht erreichbar)",vehicle:"Fahrzeug",vehicle_auto:"Automatisch",unknown_vehicle:"Unbekanntes Fahrzeug",no_vehicle:"Kein Fahrzeug angesteckt",power:"Leistung",energy:"Energie",cost:"Bisherige Kosten",price:"Preis",period_until:"{period} bis {time}",charge_now:"Jetzt laden",pause:"Laden pausieren",resume:"Laden fortsetzen",charging_enabled:"Laden erlaubt",charge_mode:"Lademodus",departure:"Abfahrt",target:"Ziel",set:"Setzen","event.until":"bis {time}","event.from":"von {start} bis {end}","event.level":"Stufe {level}","event.price":"Preis {price}","event.limit":"Grenze {limit}","event.export_price":"Einspeisepreis {price}","event.export_limit":"Einspeisegrenze {limit}","event.cap_now":"Laden ist auf {limit} begrenzt",opt_out:"Nicht teilnehmen",plan:"Plan",no_plan:"Kein Ladeplan: Preise der nächsten 24 Stunden.",ready_by:"Fertig um {time}",not_reachable:"Ziel bis zur Abfahrt nicht erreichbar",plan_cost:"Kosten des Plans {cost}",legend_price:"Preis",legend_power:"Geplante Leistung",legend_cap:"Begrenzung",legend_departure:"Abfahrt",now:"jetzt",history:"Letzte Ladevorgänge",no_history:"Noch keine abgeschlossenen Ladevorgänge.",intervals:"Intervalle",no_intervals:"Keine Intervalle.","quality.OK":"OK","quality.ESTIMATED":"Geschätzt","quality.MISSING":"Fehlend",quality:"Datenqualität",time:"Zeit",export_csv:"CSV exportieren",export_session:"CSV",exported:"Export heruntergeladen",add_event:"Lokales Ereignis hinzufügen",event_kind:"Art","kind.price":"Preisereignis","kind.load_control":"Laststeuerung","kind.export_price":"Einspeisepreis","kind.export_limit":"Einspeisegrenze",event_name:"Name",event_duration:"Dauer",event_price:"Preis",event_limit:"Leistungsgrenze",add:"Hinzufügen","done.vehicle":"Fahrzeug auf {vehicle} gesetzt","done.charge_now":"Lädt jetzt","done.pause":"Laden pausiert","done.resume":"Laden fortgesetzt","done.opt_out":"Vom Ereignis abgemeldet","opt_out.confirm":`Nicht teilnehmen: {consequence}
Trotzdem nicht teilnehmen?`,"event.consequence":"Nicht teilnehmen: {consequence}","done.event":"Ereignis hinzugefügt","done.set":"{what} gesetzt",failed:"{action} fehlgeschlagen: {message}","editor.device_id":"Ladestation","editor.title":"Titel","editor.show_plan":"Plan anzeigen","editor.show_history":"Letzte Ladevorgänge anzeigen","editor.show_event_form":"Formular für lokale Ereignisse anzeigen",card_name:"PEV-Portal-Ladestation",card_description:"Zeigt und steuert eine Ladestation in einem Programm des Versorgers.",legend_feed:"Rückspeiseleistung",fed:"Zurückgespeist","feed.credit":"Gutschrift {amount}","feed.earned":"verdient {amount}","feed.row":"{kwh} zurückgespeist","feed.plan":"Speist {kwh} zurück, Gutschrift {credit}","feed.plan_home":"davon {kwh} ins Haus","battery.title":"Batterienutzung","battery.line":"{vehicle}: {use}","battery.cycles":"{cycles} Zyklen zurückgespeist","battery.month":"{kwh} diesen Monat zurückgespeist","battery.soh":"Batteriezustand {soh}",power_feed:"Rückspeisung",power_feed_floor:"Rückspeise-Untergrenze"},hi={event_history:"Historique des événements","perf.line":"{when} : {outcome}","perf.shifted":"{kwh} décalés","perf.reduced":"{kwh} en moins","perf.no_baseline":"pas de référence","perf.target_met":"objectif atteint","perf.target_missed":"objectif manqué","perf.credit":"crédit estimé {amount}",missing_charger:"La borne choisie pour cette carte n'existe plus dans PEV Portal. Modifiez la carte pour en choisir une autre.",invalid_config:"Configuration de carte invalide","event.local_active":"Événement local en cours : {name}","event.local_upcoming":"Événement local à venir : {name}","event.utility_active":"Événement du fournisseur en cours : {name}","event.utility_upcoming":"Événement du fournisseur à venir : {name}",opted_out:"Retiré","mode.immediate":"Immédiatement","mode.cheapest":"Au moins cher avant le départ","mode.solar":"Solaire","mode.off":"Arrêt","period.off_peak":"Heures creuses","period.mid_peak":"Heures intermédiaires","period.on_peak":"Heures pleines","period.flat":"Prix unique","period.rtp":"Prix en temps réel","period.critical_peak":"Pointe critique",paused_plan:"La charge est en pause : le plan reprend quand vous reprenez la charge.","explain.cap":"{name} de {start} à {end} retarde {kwh}","explain.circuit":"{name} partagé avec les autres véhicules retarde {kwh}","explain.combined":"ensemble, {name} retardent {kwh}","explain.departure":"le départ à {start} laisse {kwh} manquants même à pleine puissance","explain.horizon":"l'horizon de planification se termine à {start}, {kwh} manquants","explain.charger":"les paliers de puissance de la borne laissent {kwh} manquants","explain.mode":"la charge est arrêtée ({kwh} non planifiés)","explain.other":"{name} retarde {kwh}","explain.ready":"prêt à {time}","explain.ready_instead":"prêt à {time} au lieu de {without}","editor.missing_charger":"Borne plus disponible",loading:"Chargement…",no_charger:"Aucune borne PEV Portal trouvée. Configurez d'abord PEV Portal.",error:"Erreur : {message}","state.unplugged":"Débranché","state.validating":"Validation","state.waiting":"En attente","state.charging":"En charge","state.paused":"En pause","state.completed":"Terminé","state.fault":"Défaut","outcome.pending":"Validation","outcome.home":"Domicile","outcome.guest_premise_pays":"Invité, le site paie","outcome.guest_pev_pays":"Invité, le propriétaire du véhicule paie","outcome.roaming":"Itinérance","outcome.not_enrolled":"Non inscrit","outcome.no_communications":"Pas de communication","party.premise_customer":"client du site","party.pev_customer":"client du véhicule","party.clearinghouse":"chambre de compensation (itinérance)",billed_to:"facturé à : {party}",program_rate:"tarif du programme",utility_link:"Liaison avec le fournisseur : {protocol}",utility_link_down:"Liaison avec le fournisseur : {protocol} (injoignable)",vehicle:"Véhicule",vehicle_auto:"Automatique",unknown_vehicle:"Véhicule inconnu",no_vehicle:"Aucun véhicule branché",power:"Puissance",energy:"Énergie",cost:"Coût à ce jour",price:"Prix",period_until:"{period} jusqu'à {time}",charge_now:"Charger maintenant",pause:"Mettre en pause",resume:"Reprendre la charge",charging_enabled:"Charge autorisée",charge_mode:"Mode de charge",departure:"Départ",target:"Objectif",set:"Appliquer","event.until":"jusqu'à {time}","event.from":"de {start} à {end}","event.level":"niveau {level}","event.price":"prix {price}","event.limit":"limite {limit}","event.export_price":"prix d'injection {price}","event.export_limit":"limite d'injection {limit}","event.cap_now":"La charge est limitée à {limit}",opt_out:"Se retirer",plan:"Plan",no_plan:"Pas de plan de charge : prix des prochaines 24 heures.",ready_by:"Prêt à {time}",not_reachable:"Objectif inatteignable avant le départ",plan_cost:"Coût du plan {cost}",legend_price:"Prix",legend_power:"Puissance prévue",legend_cap:"Limite",legend_departure:"Départ",now:"maintenant",history:"Dernières sessions",no_history:"Aucune session terminée.",intervals:"Intervalles",no_intervals:"Aucun intervalle.","quality.OK":"OK","quality.ESTIMATED":"Estimé","quality.MISSING":"Manquant",quality:"Qualité des données",time:"Heure",export_csv:"Exporter en CSV",export_session:"CSV",exported:"Export téléchargé",add_event:"Ajouter un événement local",event_kind:"Type","kind.price":"Événement de prix","kind.load_control":"Pilotage de charge","kind.export_price":"Prix d'injection","kind.export_limit":"Limite d'injection",event_name:"Nom",event_duration:"Durée",event_price:"Prix",event_limit:"Limite de puissance",add:"Ajouter","done.vehicle":"Véhicule : {vehicle}","done.charge_now":"Charge immédiate","done.pause":"Charge en pause","done.resume":"Charge reprise","done.opt_out":"Retiré de l'événement","opt_out.confirm":`Se retirer : {consequence}
Se retirer quand même ?`,"event.consequence":"Se retirer : {consequence}","done.event":"Événement ajouté","done.set":"{what} appliqué",failed:"Échec de {action} : {message}","editor.device_id":"Borne","editor.title":"Titre","editor.show_plan":"Afficher le plan","editor.show_history":"Afficher les dernières sessions","editor.show_event_form":"Afficher le formulaire d'événement local",card_name:"Borne PEV Portal",card_description:"Affiche et pilote une borne de recharge dans un programme du fournisseur.",legend_feed:"Puissance réinjectée",fed:"Énergie réinjectée","feed.credit":"crédit {amount}","feed.earned":"gagné {amount}","feed.row":"{kwh} réinjectés","feed.plan":"Réinjecte {kwh}, crédit {credit}","feed.plan_home":"dont {kwh} pour la maison","battery.title":"Utilisation de la batterie","battery.line":"{vehicle} : {use}","battery.cycles":"{cycles} cycles réinjectés","battery.month":"{kwh} réinjectés ce mois-ci","battery.soh":"état de santé {soh}",power_feed:"Réinjection",power_feed_floor:"Seuil de réinjection"},Le={en:xt,de:ui,fr:hi};function mi(i){if(!i)return"en";let e=i.toLowerCase();if(Le[e])return e;let t=e.split(/[-_]/)[0];return Le[t]?t:"en"}function m(i,e,t={}){return(Le[mi(i)][e]??xt[e]??e).replace(/\{(\w+)\}/g,(r,a)=>a in t?String(t[a]):r)}function w(i,e,t=2){return i==null||!Number.isFinite(i)?"–":new Intl.NumberFormat(e,{minimumFractionDigits:t,maximumFractionDigits:t}).format(i)}function S(i,e){return i==null||!Number.isFinite(i)?"–":`${w(i,e,Math.abs(i)<10?2:1)} kWh`}function A(i,e){return i==null||!Number.isFinite(i)?"–":`${w(i,e,i===0?0:1)} kW`}function E(i,e,t,n=2){if(i==null||!Number.isFinite(i))return"–";try{return new Intl.NumberFormat(t,{style:"currency",currency:e,minimumFractionDigits:n,maximumFractionDigits:n}).format(i)}catch{return`${w(i,t,n)} ${e}`}}function fi(i){try{return new Intl.NumberFormat("en",{style:"currency",currency:i}).resolvedOptions().maximumFractionDigits??2}catch{return 2}}function wt(i,e){let t=fi(e),n=i*10**t;return Math.abs(Math.round(n)-n)<1e-6?t:t+1}function I(i,e,t){return i==null||!Number.isFinite(i)?"–":`${E(i,e,t,wt(i,e))}/kWh`}function kt(i,e,t){return i==null||!Number.isFinite(i)?"–":E(i,e,t,wt(i,e))}function St(i){if(!i)return null;let e=new Date(i);return Number.isNaN(e.getTime())?null:e}function Et(i){if(i)try{return new Intl.DateTimeFormat("en",{timeZone:i}),i}catch{return}}function z(i,e,t){let n=St(i);return n?new Intl.DateTimeFormat(e,{hour:"2-digit",minute:"2-digit",timeZone:Et(t)}).format(n):"–"}function P(i,e,t,n=new Date){let r=St(i);if(!r)return"–";let a=Et(t),s=new Intl.DateTimeFormat("en-CA",{dateStyle:"short",timeZone:a});return s.format(r)===s.format(n)?z(i,e,a):new Intl.DateTimeFormat(e,{day:"numeric",month:"short",hour:"2-digit",minute:"2-digit",timeZone:a}).format(r)}var q={show_plan:!0,show_history:!0,show_event_form:!0};function pe(i){let e={...i};for(let[t,n]of Object.entries(q))typeof e[t]!="boolean"&&(e[t]=n);return e}function Ct(i){let e={...i};for(let[t,n]of Object.entries(q))e[t]===n&&delete e[t];return e.title||delete e.title,e.device_id||delete e.device_id,e}function ue(i){let e=(i?.chargers??[]).filter(n=>n.device_id),t=new Set(e.map(n=>n.premise));return e.map(n=>({value:n.device_id,label:t.size>1?`${n.name} (${n.premise})`:n.name}))}function At(i,e){let t=i?.chargers??[],{device_id:n,charger_id:r}=e;if(!t.length)return{kind:"none"};if(n||r){let a=t.find(s=>n&&s.device_id===n||r&&s.charger_id===r);return a?{kind:"charger",charger:a}:{kind:"missing"}}return{kind:"charger",charger:t[0]}}function Oe(i){return i.session!==null}function gi(i){return i.session!==null&&!i.charging_enabled}function Pt(i){return gi(i)?"paused":i.plan?"plan":"prices"}function Ne(i){return i.source==="utility"?"utility":"local"}function Dt(i,e){return`event.${Ne(i)}_${e?"active":"upcoming"}`}function Tt(i){return i?i.opted_out?"opted_out":i.opt_out_allowed?"offer":"none":"none"}function Rt(i,e){let t=`mode.${e}`,n=m(i,t);return n===t?e:n}function he(i,e){let t=`period.${e}`,n=m(i,t);return n===t?e:n}var zt=["price","load_control","export_price","export_limit"];function Me(i){return i==="price"||i==="export_price"}function Lt(i,e,t){let n={device_id:e,confirm:t};return i.kind==="export_limit"&&(n.export_limit=!0),n}function Ot(i,e){return e.name||m(i,`kind.${e.kind}`)}function He(i){let e=/^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(i.trim());return e?`${e[1].padStart(2,"0")}:${e[2]}:${e[3]??"00"}`:i}var _i=new Set(["cap","circuit","combined","departure","horizon","charger","mode"]);function Nt(i,e,t,n=new Date){let r=o=>P(o,i,t,n),a=_i.has(e.constraint)?e.constraint:"other",s={name:e.name,start:r(e.start),end:r(e.end),kwh:S(e.kwh,i)},l=m(i,`explain.${a}`,s);if(e.ready_by||e.ready_without){let o=["cap","circuit","combined"].includes(e.constraint)&&e.ready_without;l+=`; ${m(i,o?"explain.ready_instead":"explain.ready",{time:r(e.ready_by),without:r(e.ready_without)})}`}return l}function Ue(i,e,t){let n=[...e??[]];return e!==void 0&&t&&!n.some(r=>r.value===t)&&n.push({value:t,label:m(i,"editor.missing_charger")}),[{name:"device_id",required:!0,selector:{select:{mode:"dropdown",options:n}}},{name:"title",selector:{text:{}}},{type:"grid",name:"",schema:Object.keys(q).map(r=>({name:r,default:q[r],selector:{boolean:{}}}))}]}function Mt(i,e,t){let n=new Date(i.start),r="";if(!Number.isNaN(n.getTime()))try{r=new Intl.DateTimeFormat(e,{weekday:"long",timeZone:t}).format(n)}catch{r=new Intl.DateTimeFormat(e,{weekday:"long"}).format(n)}let a=`${r} ${z(i.start,e,t)}-${z(i.end,e,t)}`,s=[],l=h=>`${w(h,e,1)} kWh`;i.shifted_kwh!==null&&i.shifted_kwh!==void 0?s.push(m(e,"perf.shifted",{kwh:l(i.shifted_kwh)})):i.delivered_kwh!==null&&i.delivered_kwh!==void 0?s.push(m(e,"perf.reduced",{kwh:l(i.delivered_kwh)})):s.push(m(e,"perf.no_baseline")),i.target_met===!0?s.push(m(e,"perf.target_met")):i.target_met===!1&&s.push(m(e,"perf.target_missed"));let o=i.incentive===null?NaN:Number(i.incentive);if(Number.isFinite(o)){let h=`${w(o,e,2)}${i.currency?` ${i.currency}`:""}`;s.push(m(e,"perf.credit",{amount:h}))}return m(e,"perf.line",{when:a.trim(),outcome:s.join(", ")})}function Ht(i,e){let t=i.utility;return!t||!t.protocol?null:m(e,t.connected?"utility_link":"utility_link_down",{protocol:t.protocol})}var me="pev-portal-card-editor",ee=class extends k{constructor(){super(...arguments);this._loading=!1}setConfig(t){this._config=t}get _lang(){return this.hass?.locale?.language??this.hass?.language??"en"}updated(){this.hass&&this._chargers===void 0&&!this._loading&&this._load()}async _load(){this._loading=!0;try{let t=await this.hass.callWS({type:"pev_portal/dashboard"});this._chargers=ue(t),this._error=void 0}catch(t){this._chargers=[],this._error=t&&typeof t=="object"&&"message"in t?String(t.message):String(t)}finally{this._loading=!1}}_changed(t){if(!this._config)return;let n=Ct({...this._config,...t});this._config=n,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:n},bubbles:!0,composed:!0}))}render(){if(!this._config)return p;let t=this._lang,n=pe(this._config),r=this._error?c`<div class="error">${m(t,"error",{message:this._error})}</div>`:p;if(customElements.get("ha-form"))return c`${r}<ha-form
          .hass=${this.hass}
          .data=${n}
          .schema=${Ue(t,this._chargers,this._config.device_id)}
          .computeLabel=${s=>m(t,`editor.${s.name}`)}
          @value-changed=${s=>{s.stopPropagation(),this._changed(s.detail.value)}}
        ></ha-form>`;let a=Ue(t,this._chargers,this._config.device_id)[0];return c`${r}
      <label>
        ${m(t,"editor.device_id")}
        <select @change=${s=>this._changed({device_id:s.target.value})}>
          ${a.selector.select.options.map(s=>c`<option value=${s.value} ?selected=${s.value===n.device_id}>${s.label}</option>`)}
        </select>
      </label>
      <label>
        ${m(t,"editor.title")}
        <input .value=${n.title??""} @change=${s=>this._changed({title:s.target.value})} />
      </label>
      ${Object.keys(q).map(s=>c`<label>
          <input type="checkbox" .checked=${n[s]!==!1} @change=${l=>this._changed({[s]:l.target.checked})} />
          ${m(t,`editor.${s}`)}
        </label>`)}`}};ee.properties={hass:{attribute:!1},_config:{state:!0},_chargers:{state:!0},_error:{state:!0}};var D=i=>typeof i=="number"&&Number.isFinite(i);function Ie(i,e,t){if(!i||!D(i.exported_kwh)||!(i.exported_kwh>0))return null;let n=r=>E(r,e,t);return{energy:S(i.exported_kwh,t),credit:D(i.export_credit)?m(t,"feed.credit",{amount:n(i.export_credit)}):null,earned:D(i.net_cost)&&i.net_cost<0?m(t,"feed.earned",{amount:n(-i.net_cost)}):null}}function qe(i,e){let t=Ie(i,i.currency,e);if(!t)return null;let n=[m(e,"feed.row",{kwh:t.energy})];return t.earned?n.push(t.earned):t.credit&&n.push(t.credit),n.join(", ")}function Ve(i,e,t){if(!i||!D(i.energy_kwh)||!(i.energy_kwh>0))return null;let n=m(t,"feed.plan",{kwh:S(i.energy_kwh,t),credit:E(D(i.credit)?i.credit:null,e,t)});return!D(i.home_kwh)||!(i.home_kwh>0)?n:`${n} · ${m(t,"feed.plan_home",{kwh:S(i.home_kwh,t)})}`}function vi(i,e){let t=[],n=i.battery_use;return n&&D(n.cycles)&&D(n.fed_kwh_month)&&(t.push(m(e,"battery.cycles",{cycles:w(n.cycles,e,1)})),t.push(m(e,"battery.month",{kwh:S(n.fed_kwh_month,e)}))),D(i.state_of_health)&&t.push(m(e,"battery.soh",{soh:`${w(i.state_of_health,e,0)} %`})),t.length?m(e,"battery.line",{vehicle:i.name,use:t.join(", ")}):null}function Ut(i,e){return i.map(t=>vi(t,e)).filter(t=>t!==null)}function It(i,e,t){let n=Ie(i,e,t);return n?c`<div class="stat" data-test="fed">
    <div class="label">${m(t,"fed")}</div>
    <div class="value">${n.energy}</div>
    ${n.credit?c`<div class="hint" data-test="feed-credit">${n.credit}</div>`:p}
    ${n.earned?c`<div class="hint earned" data-test="feed-earned">${n.earned}</div>`:p}
  </div>`:p}function qt(i,e){let t=Ut(i,e);return t.length?c`<div class="battery-use" data-test="battery-use" aria-label=${m(e,"battery.title")}>
    ${t.map(n=>c`<div>${n}</div>`)}
  </div>`:p}function Vt(i,e){return i.feedBars.length?x`<line class="zero" x1="0" x2=${i.width} y1=${i.zeroY} y2=${i.zeroY}></line>
    ${i.feedBars.map(t=>x`<rect class="feed" data-test="feed-bar" x=${t.x} y=${t.y} width=${t.width} height=${t.height}><title>${m(e,"legend_feed")}: ${A(t.feed,e)}</title></rect>`)}`:p}function Ft(i,e){return i.feedBars.length?c`<span data-test="legend-feed"><i class="swatch feed"></i>${m(e,"legend_feed")}</span>`:p}var Bt=F`
  :host {
    --pev-feed: var(--pev-feed-color, var(--success-color, #43a047));
  }
  .chart .feed,
  .swatch.feed {
    fill: var(--pev-feed);
    background: var(--pev-feed);
  }
  .chart .zero {
    stroke: var(--pev-muted);
    stroke-width: 1;
  }
  .hint.earned {
    color: var(--pev-feed);
  }
  .battery-use {
    margin-top: 8px;
    color: var(--pev-muted);
    font-size: 0.85rem;
  }
`;var ie="pev-portal-card",bi="0.1.0",yi="/api/pev_portal/export",jt=.6,Kt=3.7,Wt="en";function Fe(i){return i&&typeof i=="object"&&"message"in i?String(i.message):String(i)}var te=class extends k{constructor(){super(),this._config={type:`custom:${ie}`},this._intervals={},this._width=320,this._eventKind="price",this._draft={}}setConfig(e){if(!e||typeof e!="object")throw new Error(m(Wt,"invalid_config"));this._config=pe(e)}getCardSize(){return 9}getGridOptions(){return{columns:12,min_columns:6,min_rows:4}}static async getStubConfig(e){try{let t=await e?.callWS({type:"pev_portal/dashboard"}),n=ue(t)[0];return n?{device_id:n.value}:{}}catch{return{}}}static getConfigElement(){return document.createElement(me)}connectedCallback(){super.connectedCallback(),this._subscribe();for(let e of["ha-select","ha-selector"])typeof customElements<"u"&&!customElements.get(e)&&customElements.whenDefined(e).then(()=>this.requestUpdate(),()=>{})}disconnectedCallback(){super.disconnectedCallback(),this._unsubscribeAll(),this._resizeObserver?.disconnect(),this._resizeObserver=void 0}updated(e){e.has("hass")&&(Wt=this._lang,this._subscribe());let t=this.renderRoot.querySelector(".chart");t&&!this._resizeObserver&&typeof ResizeObserver<"u"&&(this._resizeObserver=new ResizeObserver(n=>{let r=Math.round(n[0]?.contentRect.width??0);r>0&&Math.abs(r-this._width)>1&&(this._width=r)}),this._resizeObserver.observe(t))}_subscribe(){this._unsubscribe||!this.hass||!this.isConnected||(this._unsubscribe=this.hass.connection.subscribeMessage(e=>{this._data=e,this._error=void 0},{type:"pev_portal/subscribe_dashboard"}),this._unsubscribe.catch(e=>{this._error=Fe(e),this._unsubscribe=void 0}))}_unsubscribeAll(){let e=this._unsubscribe;this._unsubscribe=void 0,e?.then(t=>t()).catch(()=>{})}get _lang(){return this.hass?.locale?.language??this.hass?.language??"en"}_t(e,t){return m(this._lang,e,t)}get _tz(){return this.hass?.config?.time_zone}_entity(e,t){let n=e.entities[t];return n?this.hass?.states[n]:void 0}async _run(e,t,n){this._busy=e,this._status=void 0;try{await n(),this._status={ok:!0,text:t}}catch(r){this._status={ok:!1,text:this._t("failed",{action:this._t(e),message:Fe(r)})}}finally{this._busy=void 0}}_selectVehicle(e,t){let n=e.entities.vehicle;if(!n||!this.hass)return;let r=t==="auto"?this._t("vehicle_auto"):t;this._run("vehicle",this._t("done.vehicle",{vehicle:r}),()=>this.hass.callService("select","select_option",{entity_id:n,option:t}))}_chargeNow(e){let t=e.entities.charge_now;!t||!this.hass||this._run("charge_now",this._t("done.charge_now"),()=>this.hass.callService("button","press",{entity_id:t}))}_toggleCharging(e){let t=e.entities.charging_enabled;if(!t||!this.hass||!Oe(e))return;let n=e.charging_enabled;this._run(n?"pause":"resume",this._t(n?"done.pause":"done.resume"),()=>this.hass.callService("switch",n?"turn_off":"turn_on",{entity_id:t}))}_optOut(e,t){if(!this.hass||!e.device_id)return;let n=t.opt_out_consequence;n&&!window.confirm(this._t("opt_out.confirm",{consequence:n}))||this._run("opt_out",this._t("done.opt_out"),()=>this.hass.callService("pev_portal","opt_out",Lt(t,e.device_id,!!n)))}_setEntity(e,t,n,r){let a=e.entities[t],s=r??this._draft[t];if(!a||s===void 0||!this.hass)return;let l=a.split(".")[0],o=this._t("done.set",{what:n});this._run(t==="charge_mode"?"charge_mode":t,o,async()=>{switch(l){case"select":await this.hass.callService("select","select_option",{entity_id:a,option:String(s)});break;case"time":await this.hass.callService("time","set_value",{entity_id:a,time:He(String(s))});break;case"datetime":await this.hass.callService("datetime","set_value",{entity_id:a,datetime:String(s)});break;default:await this.hass.callService(l,"set_value",{entity_id:a,value:Number(s)})}let{[t]:h,...d}=this._draft;this._draft=d})}_setDraft(e,t){this._draft={...this._draft,[e]:t}}_addEvent(e){if(!this.hass)return;let t=(h,d)=>this._draft[`event_${h}`]??d,n=this._eventKind,r=Number(t("duration",1))||1,a=new Date,s=new Date(a.getTime()+r*36e5),l={config_entry_id:e.entry_id,kind:n,start:a.toISOString(),end:s.toISOString()},o=String(t("name","")).trim();o&&(l.name=o),Me(n)?l.price=Number(t("price",jt)):l.limit_kw=Number(t("limit",Kt)),this._run("add_event",this._t("done.event"),()=>this.hass.callService("pev_portal","add_local_event",l))}async _export(e,t){if(!this.hass)return;let n=new URLSearchParams({format:"csv",entry_id:e.entry_id});if(t){let r=e.sessions.find(a=>a.session_id===t);n.set("session_id",t),r&&(n.set("start",r.started_at),n.set("end",new Date(Date.parse(r.started_at)+1e3).toISOString()))}await this._run("export_csv",this._t("exported"),async()=>{let r=await this.hass.fetchWithAuth(`${yi}?${n}`);if(!r.ok)throw new Error(`HTTP ${r.status}: ${await r.text()}`);let a=r.headers.get("Content-Disposition")??"",s=/filename="([^"]+)"/.exec(a)?.[1]??"pev_portal_sessions.csv",l=URL.createObjectURL(await r.blob()),o=document.createElement("a");o.href=l,o.download=s,o.style.display="none",this.renderRoot.appendChild(o),o.click(),o.remove(),setTimeout(()=>URL.revokeObjectURL(l),1e4)})}async _toggleSession(e,t){let n=t.target.open,r=this._intervals[e.session_id];if(!(!n||!this.hass||r&&typeof r!="string"||r==="loading")){this._intervals={...this._intervals,[e.session_id]:"loading"};try{let a=await this.hass.callWS({type:"pev_portal/session_intervals",session_id:e.session_id});this._intervals={...this._intervals,[e.session_id]:a}}catch(a){this._intervals={...this._intervals,[e.session_id]:Fe(a)}}}}render(){if(this._error)return c`<ha-card><div class="message error">${this._t("error",{message:this._error})}</div></ha-card>`;if(!this._data)return c`<ha-card><div class="message">${this._t("loading")}</div></ha-card>`;let e=At(this._data,this._config);if(e.kind==="missing")return c`<ha-card><div class="message error" data-test="missing-charger">${this._t("missing_charger")}</div></ha-card>`;if(e.kind==="none")return c`<ha-card><div class="message" data-test="no-charger">${this._t("no_charger")}</div></ha-card>`;let t=e.charger;return c`
      <ha-card data-charger=${t.charger_id}>
        ${this._renderHeader(t)} ${this._renderBanner(t)} ${this._renderStats(t)}
        ${qt(t.vehicles,this._lang)} ${this._renderControls(t)}
        <div class="status ${this._status?this._status.ok?"ok":"failed":""}" role="status" aria-live="polite" data-test="status">
          ${this._status?.text??""}
        </div>
        ${this._config.show_plan===!1?p:this._renderPlan(t)}
        ${this._config.show_history===!1?p:this._renderHistory(t)}
        ${this._config.show_event_form===!1?p:this._renderEventForm(t)}
      </ha-card>
    `}_renderHeader(e){let t=e.session,n=e.binding,r=t?t.vehicle??t.pev_id??this._t("unknown_vehicle"):this._t("no_vehicle"),a=Ht(e,this._lang),s=n?.billing_party?this._t("billed_to",{party:this._t(`party.${n.billing_party}`)}):"";return c`
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
        <span class="vehicle" data-test="vehicle">${r}</span>
        ${n?c`<span class="outcome outcome-${n.outcome}" data-test="outcome">${this._t(`outcome.${n.outcome}`)}</span>
              ${s?c`<span class="party" data-test="party">${s}</span>`:p}
              ${n.program_rate?c`<span class="party">${this._t("program_rate")}</span>`:p}`:p}
      </div>
      ${a?c`<div class="utility" data-test="utility">${a}</div>`:p}
    `}_renderBanner(e){let t=e.event??e.next_event;if(!t&&e.cap_kw===null)return p;let n=!!e.event,r=[];t&&(t.level!==null&&t.level!==void 0&&r.push(this._t("event.level",{level:t.level})),t.price!==null&&t.price!==void 0&&r.push(this._t("event.price",{price:I(t.price,e.price.currency,this._lang)})),t.limit_kw!==null&&t.limit_kw!==void 0&&r.push(this._t("event.limit",{limit:A(t.limit_kw,this._lang)})),t.export_price!==null&&t.export_price!==void 0&&r.push(this._t("event.export_price",{price:I(t.export_price,e.price.currency,this._lang)})),t.export_limit_kw!==null&&t.export_limit_kw!==void 0&&r.push(this._t("event.export_limit",{limit:A(t.export_limit_kw,this._lang)})),r.push(n?this._t("event.until",{time:P(t.end,this._lang,this._tz)}):this._t("event.from",{start:P(t.start,this._lang,this._tz),end:P(t.end,this._lang,this._tz)})));let a=t?Ot(this._lang,t):"",s=Tt(t);return c`
      <div class="banner ${n?"active":"upcoming"}" data-test="event-banner" data-source=${t?Ne(t):p} role="note">
        <ha-icon icon=${n?"mdi:alert-circle":"mdi:calendar-clock"}></ha-icon>
        <div class="banner-text">
          ${t?c`<div class="banner-title" data-test="event-title">${this._t(Dt(t,n),{name:a})}</div>
                <div class="banner-details">${r.join(" · ")}</div>`:p}
          ${e.cap_kw!==null?c`<div class="banner-details">${this._t("event.cap_now",{limit:A(e.cap_kw,this._lang)})}</div>`:p}
          ${s==="offer"&&t?.opt_out_consequence?c`<div class="banner-details" data-test="opt-out-consequence">${this._t("event.consequence",{consequence:t.opt_out_consequence})}</div>`:p}
        </div>
        ${s==="offer"&&t&&e.device_id?c`<button class="secondary" data-test="opt-out" @click=${()=>this._optOut(e,t)} ?disabled=${this._busy!==void 0}>
              ${this._t("opt_out")}
            </button>`:s==="opted_out"?c`<span class="chip opted-out" data-test="opted-out">${this._t("opted_out")}</span>`:p}
      </div>
    `}_renderStats(e){let t=e.session,n=this._lang,r=e.price;return c`
      <div class="stats">
        <div class="stat" data-test="power">
          <div class="label">${this._t("power")}</div>
          <div class="value">${A(t?t.power_kw??0:null,n)}</div>
        </div>
        <div class="stat" data-test="energy">
          <div class="label">${this._t("energy")}</div>
          <div class="value">${S(t?.energy_kwh,n)}</div>
        </div>
        <div class="stat" data-test="cost">
          <div class="label">${this._t("cost")}</div>
          <div class="value">${E(t?.cost,t?.currency??r.currency,n)}</div>
        </div>
        ${It(t,t?.currency??r.currency,n)}
        <div class="stat" data-test="price">
          <div class="label">${this._t("price")}</div>
          <div class="value">${I(r.value,r.currency,n)}</div>
          <div class="hint">
            ${Date.parse(r.until)-Date.now()<864e5?this._t("period_until",{period:he(n,r.period),time:P(r.until,n,this._tz)}):he(n,r.period)}
          </div>
        </div>
      </div>
    `}_renderControls(e){let t=this._busy!==void 0,n=this._entity(e,"vehicle"),r=n?.attributes.options??["auto",...e.vehicles.map(o=>o.name)],a=n?.state??"auto",s=e.charger_id,l=Oe(e);return c`
      <div class="controls">
        ${e.entities.vehicle?c`<div class="control-slot" data-test="vehicle-select">
              ${ce({id:`pev-vehicle-${s}`,label:this._t("vehicle"),value:a,options:r.map(o=>({value:o,label:o==="auto"?this._t("vehicle_auto"):o})),disabled:t,hass:this.hass,onChange:o=>this._selectVehicle(e,o)})}
            </div>`:p}
        ${this._renderOptional(e)}
        <div class="buttons">
          ${e.entities.charging_enabled?c`<button class="secondary" data-test="toggle-charging" aria-pressed=${e.charging_enabled?"false":"true"} ?disabled=${t||!l} title=${l?p:this._t("no_vehicle")} @click=${()=>this._toggleCharging(e)}>
                ${this._t(e.charging_enabled?"pause":"resume")}
              </button>`:p}
          ${e.entities.charge_now?c`<button class="primary" data-test="charge-now" ?disabled=${t||!e.session} title=${e.session?p:this._t("no_vehicle")} @click=${()=>this._chargeNow(e)}>
                ${this._t("charge_now")}
              </button>`:p}
        </div>
      </div>
    `}_renderOptional(e){let t=this._busy!==void 0,n=this._lang,r=[],a=this._entity(e,"charge_mode");if(a){let d=a.attributes.options??[];r.push(c`<div class="control-slot" data-test="charge-mode">
        ${ce({id:"pev-charge_mode",label:this._t("charge_mode"),value:a.state,options:d.map(f=>({value:f,label:Rt(n,f)})),disabled:t,hass:this.hass,onChange:f=>this._setEntity(e,"charge_mode",this._t("charge_mode"),f)})}
      </div>`)}let s=["departure","departure_time"].find(d=>e.entities[d]),l=s?this._entity(e,s):void 0;if(s&&l&&l.entity_id.startsWith("time.")){let d=String(this._draft[s]??He(l.state));r.push(c`<div class="control-slot inline time-slot" data-test="departure">
        ${bt({id:`pev-${s}`,label:this._t("departure"),value:d,disabled:t,hass:this.hass,onChange:f=>this._setDraft(s,f)})}
        <button class="secondary" data-test="set-departure" ?disabled=${t} @click=${()=>this._setEntity(e,s,this._t("departure"),d)}>${this._t("set")}</button>
      </div>`)}let o=["target","target_soc","target_energy","target_kwh"].find(d=>e.entities[d]);o&&r.push(this._numberSlot(e,o,"target","target"));let h=this._entity(e,"power_feed");return h&&r.push(c`<div class="control-slot" data-test="power-feed">
        ${$t({id:"pev-power_feed",label:this._t("power_feed"),value:h.state==="on",disabled:t||h.state==="unavailable",hass:this.hass,onChange:d=>this._setSwitch(e,"power_feed",d)})}
      </div>`),e.entities.power_feed_floor&&r.push(this._numberSlot(e,"power_feed_floor","power_feed_floor","power-feed-floor")),r.filter(d=>d!==p)}_numberSlot(e,t,n,r){let a=this._entity(e,t);if(!a)return p;let s=this._busy!==void 0,l=a.attributes,o=Number(this._draft[t]??a.state),h=this._t(n);return c`<div class="control-slot inline" data-test=${r}>
      ${Q({id:`pev-${t}`,label:h,value:Number.isFinite(o)?o:0,min:l.min??0,max:l.max??100,step:l.step??1,unit:l.unit_of_measurement,disabled:s,hass:this.hass,onChange:d=>this._setDraft(t,d)})}
      <button class="secondary" data-test="set-${r}" ?disabled=${s} @click=${()=>this._setEntity(e,t,h,o)}>${this._t("set")}</button>
    </div>`}_setSwitch(e,t,n){let r=e.entities[t];!r||!this.hass||this._run(t,this._t("done.set",{what:this._t(t)}),()=>this.hass.callService("switch",n?"turn_on":"turn_off",{entity_id:r}))}_renderPlan(e){let t=this._lang,n=Math.max(200,this._width),r=150,a=Pt(e),s=a==="plan"?e.plan:null,l=vt({prices:e.prices,plan:s,caps:e.caps,events:[e.event,e.next_event],now:new Date},{width:n,height:r}),o=e.price.currency,h=d=>z(d,t,this._tz);return c`
      <section class="plan" aria-labelledby="pev-plan-title">
        <div class="section-head">
          <h3 id="pev-plan-title">${this._t("plan")}</h3>
          ${s?.ready_by?c`<span class="ready" data-test="ready-by">${this._t("ready_by",{time:P(s.ready_by,t,this._tz)})}</span>`:p}
        </div>
        ${a==="paused"?c`<div class="plan-info paused" data-test="plan-paused">${this._t("paused_plan")}</div>`:s?c`<div class="plan-info" data-test="plan-info">
                ${s.reachable===!1?c`<span class="warn">${this._t("not_reachable")}</span>`:p}
                ${(s.explanations??[]).map(d=>c`<span>${Nt(t,d,this._tz)}</span>`)}
                ${s.cost!==null&&s.cost!==void 0?c`<span>${this._t("plan_cost",{cost:E(s.cost,o,t)})}</span>`:p}
                ${Ve(s.feed,o,t)?c`<span data-test="plan-feed">${Ve(s.feed,o,t)}</span>`:p}
              </div>`:c`<div class="plan-info" data-test="plan-info">${this._t("no_plan")}</div>`}
        <div class="chart" data-test="chart">
          <svg width=${n} height=${r} viewBox="0 0 ${n} ${r}" role="img" aria-label=${this._t("plan")}>
            <defs>
              <pattern id="pev-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                <rect width="6" height="6" class="cap-bg"></rect>
                <line x1="0" y1="0" x2="0" y2="6" class="cap-line"></line>
              </pattern>
            </defs>
            ${l.caps.map(d=>x`<rect class="cap" x=${d.x} y=${d.y} width=${d.width} height=${d.height} fill="url(#pev-hatch)"><title>${d.name??""} ${d.limit!==null?A(d.limit,t):""}</title></rect>
                ${d.limitY!==null?x`<line class="cap-limit" x1=${d.x} x2=${d.x+d.width} y1=${d.limitY} y2=${d.limitY}></line>`:p}`)}
            ${l.prices.map(d=>x`<rect class="price" x=${d.x} y=${d.y} width=${Math.max(.5,d.width)} height=${d.height}><title>${h(new Date(l.start+d.x/n*(l.end-l.start)).toISOString())} ${he(t,d.period)}: ${I(d.price,o,t)}</title></rect>`)}
            ${l.bars.map(d=>x`<rect class="bar" x=${d.x} y=${d.y} width=${d.width} height=${d.height}><title>${A(d.power,t)}</title></rect>`)}
            ${Vt(l,t)}
            ${l.nowX!==null?x`<line class="now" x1=${l.nowX} x2=${l.nowX} y1="0" y2=${l.plotHeight}></line>`:p}
            ${l.departureX!==null?x`<line class="departure" x1=${l.departureX} x2=${l.departureX} y1="0" y2=${l.plotHeight}></line>
                  <text class="departure-label" x=${Math.min(l.departureX,n-4)} y="11" text-anchor="end">${this._t("legend_departure")} ${h(s.departure)}</text>`:p}
            <line class="axis" x1="0" x2=${n} y1=${l.plotHeight} y2=${l.plotHeight}></line>
            ${l.ticks.map(d=>x`<line class="tick" x1=${d.x} x2=${d.x} y1=${l.plotHeight} y2=${l.plotHeight+4}></line>
                <text class="tick-label" x=${Math.min(Math.max(d.x,26),n-26)} y=${r-3} text-anchor="middle">${h(d.time)}</text>`)}
            ${l.priceLabel?x`<text class="scale" data-test="price-label" x=${l.priceLabel.x} y=${l.priceLabel.y}>${I(l.priceLabel.price,o,t)}</text>`:p}
          </svg>
        </div>
        <div class="legend">
          <span><i class="swatch price"></i>${this._t("legend_price")}</span>
          ${l.bars.length?c`<span><i class="swatch bar"></i>${this._t("legend_power")}</span>`:p}
          ${Ft(l,t)}
          ${l.caps.length?c`<span><i class="swatch cap"></i>${this._t("legend_cap")}</span>`:p}
        </div>
      </section>
    `}_renderHistory(e){let t=this._lang;return c`
      <section class="history" aria-labelledby="pev-history-title">
        <div class="section-head">
          <h3 id="pev-history-title">${this._t("history")}</h3>
          <button class="link" data-test="export" ?disabled=${this._busy!==void 0} @click=${()=>this._export(e)}>
            ${this._t("export_csv")}
          </button>
        </div>
        ${e.sessions.length?e.sessions.map(n=>this._renderSession(e,n,t)):c`<div class="empty">${this._t("no_history")}</div>`}
        ${e.event_history?.length?c`<h4 class="event-history-title">${this._t("event_history")}</h4>
              <ul class="event-history" data-test="event-history">
                ${e.event_history.map(n=>c`<li>${Mt(n,t,this._tz)}</li>`)}
              </ul>`:p}
      </section>
    `}_renderSession(e,t,n){let r=this._intervals[t.session_id],a=t.data_quality??"OK";return c`
      <details class="session" data-test="session" @toggle=${s=>this._toggleSession(t,s)}>
        <summary>
          <span class="when">${P(t.started_at,n,this._tz)}</span>
          <span class="who">${t.vehicle??t.pev_id??this._t("unknown_vehicle")}</span>
          <span class="num">${S(t.energy_kwh,n)}</span>
          <span class="num">${E(t.cost,t.currency,n)}</span>
          ${qe(t,n)?c`<span class="num" data-test="session-feed">${qe(t,n)}</span>`:p}
          <span class="quality quality-${a}" title=${this._t("quality")}>${this._t(`quality.${a}`)}</span>
        </summary>
        <div class="intervals">
          ${r===void 0||r==="loading"?c`<div class="empty">${this._t("loading")}</div>`:typeof r=="string"?c`<div class="empty error">${this._t("error",{message:r})}</div>`:r.intervals.length===0?c`<div class="empty">${this._t("no_intervals")}</div>`:c`<table data-test="intervals">
                    <thead>
                      <tr><th scope="col">${this._t("time")}</th><th scope="col">${this._t("energy")}</th><th scope="col">${this._t("price")}</th><th scope="col">${this._t("cost")}</th><th scope="col">${this._t("quality")}</th></tr>
                    </thead>
                    <tbody>
                      ${r.intervals.map(s=>c`<tr>
                          <td>${z(s.start,n,this._tz)}–${z(s.end,n,this._tz)}</td>
                          <td class="num">${w(s.kwh,n,3)}</td>
                          <td class="num">${kt(s.price,r.currency,n)}</td>
                          <td class="num">${E(s.cost,r.currency,n)}</td>
                          <td>${this._t(`quality.${s.quality}`)}</td>
                        </tr>`)}
                    </tbody>
                  </table>`}
          <button class="link" @click=${()=>this._export(e,t.session_id)}>${this._t("export_session")}</button>
        </div>
      </details>
    `}_renderEventForm(e){let t=this._busy!==void 0,n=this._eventKind,r=(s,l)=>this._draft[`event_${s}`]??l,a=s=>l=>this._setDraft(`event_${s}`,l);return c`
      <details class="event-form" data-test="event-form">
        <summary>${this._t("add_event")}</summary>
        <div class="form">
          ${ce({id:"pev-event-kind",label:this._t("event_kind"),value:n,options:zt.map(s=>({value:s,label:this._t(`kind.${s}`)})),hass:this.hass,onChange:s=>this._eventKind=s})}
          ${yt({id:"pev-event-name",label:this._t("event_name"),value:String(r("name","")),hass:this.hass,onChange:a("name")})}
          ${Q({id:"pev-event-duration",label:this._t("event_duration"),value:Number(r("duration",1)),min:.25,step:.25,unit:"h",hass:this.hass,onChange:a("duration")})}
          ${Me(n)?Q({id:"pev-event-price",label:this._t("event_price"),value:Number(r("price",jt)),min:0,step:.01,unit:`${e.price.currency}/kWh`,hass:this.hass,onChange:a("price")}):Q({id:"pev-event-limit",label:this._t("event_limit"),value:Number(r("limit",Kt)),min:0,step:.1,unit:"kW",hass:this.hass,onChange:a("limit")})}
          <div class="buttons">
            <button class="primary" data-test="add-event" ?disabled=${t} @click=${()=>this._addEvent(e)}>${this._t("add")}</button>
          </div>
        </div>
      </details>
    `}};te.properties={hass:{attribute:!1},_config:{state:!0},_data:{state:!0},_error:{state:!0},_status:{state:!0},_busy:{state:!0},_intervals:{state:!0},_width:{state:!0},_eventKind:{state:!0},_draft:{state:!0}},te.styles=[Bt,F`
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
    .chip.opted-out {
      background: var(--success-color, #43a047);
      color: var(--text-primary-color, #fff);
    }
    .chip.state-fault {
      background: var(--error-color, #db4437);
      color: var(--text-primary-color, #fff);
    }
    .utility {
      margin-top: 4px;
      font-size: 0.85em;
      color: var(--secondary-text-color);
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
    .control-slot {
      display: flex;
      gap: 8px;
      align-items: flex-end;
      flex: 1 1 180px;
      min-width: 0;
    }
    .control-slot .field {
      flex: 1 1 auto;
      min-width: 0;
    }
    ha-selector,
    ha-select {
      display: block;
      width: 100%;
    }
    .control-slot.time-slot {
      /* Home Assistant's time control keeps its own width (hours, minutes, AM/PM, clear) */
      flex: 0 1 auto;
    }
    .control-slot.time-slot .field {
      flex: 0 1 auto;
    }
    .control-slot > button {
      flex: none;
      margin-bottom: 4px;
    }
    input.time {
      min-width: 9em;
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
    .event-history-title {
      margin: 12px 0 4px;
      font-size: 0.95em;
      font-weight: 500;
    }
    ul.event-history {
      margin: 0;
      padding-left: 18px;
      color: var(--secondary-text-color);
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
  `];function Be(){window.customElements.get(ie)||window.customElements.define(ie,te),window.customElements.get(me)||window.customElements.define(me,ee)}function Gt(){let i=["home-assistant","hc-main"].find(e=>document.querySelector(e));i&&!window.customElements.get(i)?window.customElements.whenDefined(i).then(Be,Be):Be()}document.readyState==="loading"?document.addEventListener("DOMContentLoaded",Gt,{once:!0}):Gt();window.customCards=window.customCards??[];window.customCards.some(i=>i.type===ie)||window.customCards.push({type:ie,name:m(navigator.language,"card_name"),description:m(navigator.language,"card_description"),preview:!0,documentationURL:"https://github.com/pev-portal/pev-portal/blob/main/docs/user-guide.md#dashboard"});console.info(`%c PEV-PORTAL-CARD %c ${bi} `,"background:#03a9f4;color:#fff","");export{te as PevPortalCard};
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

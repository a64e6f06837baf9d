var ee=globalThis,te=ee.ShadowRoot&&(ee.ShadyCSS===void 0||ee.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,me=Symbol(),Ve=new WeakMap,U=class{constructor(e,t,n){if(this._$cssResult$=!0,n!==me)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=e,this.t=t}get styleSheet(){let e=this.o,t=this.t;if(te&&e===void 0){let n=t!==void 0&&t.length===1;n&&(e=Ve.get(t)),e===void 0&&((this.o=e=new CSSStyleSheet).replaceSync(this.cssText),n&&Ve.set(t,e))}return e}toString(){return this.cssText}},Be=i=>new U(typeof i=="string"?i:i+"",void 0,me),ge=(i,...e)=>{let t=i.length===1?i[0]:e.reduce((n,s,a)=>n+(r=>{if(r._$cssResult$===!0)return r.cssText;if(typeof r=="number")return r;throw Error("Value passed to 'css' function must be a 'css' function result: "+r+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(s)+i[a+1],i[0]);return new U(t,i,me)},Fe=(i,e)=>{if(te)i.adoptedStyleSheets=e.map(t=>t instanceof CSSStyleSheet?t:t.styleSheet);else for(let t of e){let n=document.createElement("style"),s=ee.litNonce;s!==void 0&&n.setAttribute("nonce",s),n.textContent=t.cssText,i.appendChild(n)}},_e=te?i=>i:i=>i instanceof CSSStyleSheet?(e=>{let t="";for(let n of e.cssRules)t+=n.cssText;return Be(t)})(i):i;var{is:Dt,defineProperty:Tt,getOwnPropertyDescriptor:Rt,getOwnPropertyNames:Lt,getOwnPropertySymbols:Ot,getPrototypeOf:Nt}=Object,ie=globalThis,je=ie.trustedTypes,zt=je?je.emptyScript:"",Mt=ie.reactiveElementPolyfillSupport,I=(i,e)=>i,fe={toAttribute(i,e){switch(e){case Boolean:i=i?zt:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,e){let t=i;switch(e){case Boolean:t=i!==null;break;case Number:t=i===null?null:Number(i);break;case Object:case Array:try{t=JSON.parse(i)}catch{t=null}}return t}},We=(i,e)=>!Dt(i,e),Ke={attribute:!0,type:String,converter:fe,reflect:!1,useDefault:!1,hasChanged:We};Symbol.metadata??=Symbol("metadata"),ie.litPropertyMetadata??=new WeakMap;var w=class extends HTMLElement{static addInitializer(e){this._$Ei(),(this.l??=[]).push(e)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(e,t=Ke){if(t.state&&(t.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(e)&&((t=Object.create(t)).wrapped=!0),this.elementProperties.set(e,t),!t.noAccessor){let n=Symbol(),s=this.getPropertyDescriptor(e,n,t);s!==void 0&&Tt(this.prototype,e,s)}}static getPropertyDescriptor(e,t,n){let{get:s,set:a}=Rt(this.prototype,e)??{get(){return this[t]},set(r){this[t]=r}};return{get:s,set(r){let l=s?.call(this);a?.call(this,r),this.requestUpdate(e,l,n)},configurable:!0,enumerable:!0}}static getPropertyOptions(e){return this.elementProperties.get(e)??Ke}static _$Ei(){if(this.hasOwnProperty(I("elementProperties")))return;let e=Nt(this);e.finalize(),e.l!==void 0&&(this.l=[...e.l]),this.elementProperties=new Map(e.elementProperties)}static finalize(){if(this.hasOwnProperty(I("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(I("properties"))){let t=this.properties,n=[...Lt(t),...Ot(t)];for(let s of n)this.createProperty(s,t[s])}let e=this[Symbol.metadata];if(e!==null){let t=litPropertyMetadata.get(e);if(t!==void 0)for(let[n,s]of t)this.elementProperties.set(n,s)}this._$Eh=new Map;for(let[t,n]of this.elementProperties){let s=this._$Eu(t,n);s!==void 0&&this._$Eh.set(s,t)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(e){let t=[];if(Array.isArray(e)){let n=new Set(e.flat(1/0).reverse());for(let s of n)t.unshift(_e(s))}else e!==void 0&&t.push(_e(e));return t}static _$Eu(e,t){let n=t.attribute;return n===!1?void 0:typeof n=="string"?n:typeof e=="string"?e.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(e=>this.enableUpdating=e),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(e=>e(this))}addController(e){(this._$EO??=new Set).add(e),this.renderRoot!==void 0&&this.isConnected&&e.hostConnected?.()}removeController(e){this._$EO?.delete(e)}_$E_(){let e=new Map,t=this.constructor.elementProperties;for(let n of t.keys())this.hasOwnProperty(n)&&(e.set(n,this[n]),delete this[n]);e.size>0&&(this._$Ep=e)}createRenderRoot(){let e=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Fe(e,this.constructor.elementStyles),e}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(e=>e.hostConnected?.())}enableUpdating(e){}disconnectedCallback(){this._$EO?.forEach(e=>e.hostDisconnected?.())}attributeChangedCallback(e,t,n){this._$AK(e,n)}_$ET(e,t){let n=this.constructor.elementProperties.get(e),s=this.constructor._$Eu(e,n);if(s!==void 0&&n.reflect===!0){let a=(n.converter?.toAttribute!==void 0?n.converter:fe).toAttribute(t,n.type);this._$Em=e,a==null?this.removeAttribute(s):this.setAttribute(s,a),this._$Em=null}}_$AK(e,t){let n=this.constructor,s=n._$Eh.get(e);if(s!==void 0&&this._$Em!==s){let a=n.getPropertyOptions(s),r=typeof a.converter=="function"?{fromAttribute:a.converter}:a.converter?.fromAttribute!==void 0?a.converter:fe;this._$Em=s;let l=r.fromAttribute(t,a.type);this[s]=l??this._$Ej?.get(s)??l,this._$Em=null}}requestUpdate(e,t,n,s=!1,a){if(e!==void 0){let r=this.constructor;if(s===!1&&(a=this[e]),n??=r.getPropertyOptions(e),!((n.hasChanged??We)(a,t)||n.useDefault&&n.reflect&&a===this._$Ej?.get(e)&&!this.hasAttribute(r._$Eu(e,n))))return;this.C(e,t,n)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(e,t,{useDefault:n,reflect:s,wrapped:a},r){n&&!(this._$Ej??=new Map).has(e)&&(this._$Ej.set(e,r??t??this[e]),a!==!0||r!==void 0)||(this._$AL.has(e)||(this.hasUpdated||n||(t=void 0),this._$AL.set(e,t)),s===!0&&this._$Em!==e&&(this._$Eq??=new Set).add(e))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(t){Promise.reject(t)}let e=this.scheduleUpdate();return e!=null&&await e,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[s,a]of this._$Ep)this[s]=a;this._$Ep=void 0}let n=this.constructor.elementProperties;if(n.size>0)for(let[s,a]of n){let{wrapped:r}=a,l=this[s];r!==!0||this._$AL.has(s)||l===void 0||this.C(s,void 0,a,l)}}let e=!1,t=this._$AL;try{e=this.shouldUpdate(t),e?(this.willUpdate(t),this._$EO?.forEach(n=>n.hostUpdate?.()),this.update(t)):this._$EM()}catch(n){throw e=!1,this._$EM(),n}e&&this._$AE(t)}willUpdate(e){}_$AE(e){this._$EO?.forEach(t=>t.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(e)),this.updated(e)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(e){return!0}update(e){this._$Eq&&=this._$Eq.forEach(t=>this._$ET(t,this[t])),this._$EM()}updated(e){}firstUpdated(e){}};w.elementStyles=[],w.shadowRootOptions={mode:"open"},w[I("elementProperties")]=new Map,w[I("finalized")]=new Map,Mt?.({ReactiveElement:w}),(ie.reactiveElementVersions??=[]).push("2.1.2");var Ee=globalThis,Xe=i=>i,ne=Ee.trustedTypes,Ge=ne?ne.createPolicy("lit-html",{createHTML:i=>i}):void 0,tt="$lit$",k=`lit$${Math.random().toFixed(9).slice(2)}$`,it="?"+k,Ht=`<${it}>`,R=document,V=()=>R.createComment(""),B=i=>i===null||typeof i!="object"&&typeof i!="function",Ce=Array.isArray,Ut=i=>Ce(i)||typeof i?.[Symbol.iterator]=="function",ve=`[ 	
\f\r]`,q=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Ye=/-->/g,Ze=/>/g,D=RegExp(`>|${ve}(?:([^\\s"'>=/]+)(${ve}*=${ve}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Je=/'/g,Qe=/"/g,nt=/^(?:script|style|textarea|title)$/i,Se=i=>(e,...t)=>({_$litType$:i,strings:e,values:t}),c=Se(1),E=Se(2),si=Se(3),L=Symbol.for("lit-noChange"),p=Symbol.for("lit-nothing"),et=new WeakMap,T=R.createTreeWalker(R,129);function st(i,e){if(!Ce(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return Ge!==void 0?Ge.createHTML(e):e}var It=(i,e)=>{let t=i.length-1,n=[],s,a=e===2?"<svg>":e===3?"<math>":"",r=q;for(let l=0;l<t;l++){let o=i[l],h,d,m=-1,f=0;for(;f<o.length&&(r.lastIndex=f,d=r.exec(o),d!==null);)f=r.lastIndex,r===q?d[1]==="!--"?r=Ye:d[1]!==void 0?r=Ze:d[2]!==void 0?(nt.test(d[2])&&(s=RegExp("</"+d[2],"g")),r=D):d[3]!==void 0&&(r=D):r===D?d[0]===">"?(r=s??q,m=-1):d[1]===void 0?m=-2:(m=r.lastIndex-d[2].length,h=d[1],r=d[3]===void 0?D:d[3]==='"'?Qe:Je):r===Qe||r===Je?r=D:r===Ye||r===Ze?r=q:(r=D,s=void 0);let b=r===D&&i[l+1].startsWith("/>")?" ":"";a+=r===q?o+Ht:m>=0?(n.push(h),o.slice(0,m)+tt+o.slice(m)+k+b):o+k+(m===-2?l:b)}return[st(i,a+(i[t]||"<?>")+(e===2?"</svg>":e===3?"</math>":"")),n]},F=class i{constructor({strings:e,_$litType$:t},n){let s;this.parts=[];let a=0,r=0,l=e.length-1,o=this.parts,[h,d]=It(e,t);if(this.el=i.createElement(h,n),T.currentNode=this.el.content,t===2||t===3){let m=this.el.content.firstChild;m.replaceWith(...m.childNodes)}for(;(s=T.nextNode())!==null&&o.length<l;){if(s.nodeType===1){if(s.hasAttributes())for(let m of s.getAttributeNames())if(m.endsWith(tt)){let f=d[r++],b=s.getAttribute(m).split(k),y=/([.?@])?(.*)/.exec(f);o.push({type:1,index:a,name:y[2],strings:b,ctor:y[1]==="."?ye:y[1]==="?"?$e:y[1]==="@"?xe:z}),s.removeAttribute(m)}else m.startsWith(k)&&(o.push({type:6,index:a}),s.removeAttribute(m));if(nt.test(s.tagName)){let m=s.textContent.split(k),f=m.length-1;if(f>0){s.textContent=ne?ne.emptyScript:"";for(let b=0;b<f;b++)s.append(m[b],V()),T.nextNode(),o.push({type:2,index:++a});s.append(m[f],V())}}}else if(s.nodeType===8)if(s.data===it)o.push({type:2,index:a});else{let m=-1;for(;(m=s.data.indexOf(k,m+1))!==-1;)o.push({type:7,index:a}),m+=k.length-1}a++}}static createElement(e,t){let n=R.createElement("template");return n.innerHTML=e,n}};function N(i,e,t=i,n){if(e===L)return e;let s=n!==void 0?t._$Co?.[n]:t._$Cl,a=B(e)?void 0:e._$litDirective$;return s?.constructor!==a&&(s?._$AO?.(!1),a===void 0?s=void 0:(s=new a(i),s._$AT(i,t,n)),n!==void 0?(t._$Co??=[])[n]=s:t._$Cl=s),s!==void 0&&(e=N(i,s._$AS(i,e.values),s,n)),e}var be=class{constructor(e,t){this._$AV=[],this._$AN=void 0,this._$AD=e,this._$AM=t}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(e){let{el:{content:t},parts:n}=this._$AD,s=(e?.creationScope??R).importNode(t,!0);T.currentNode=s;let a=T.nextNode(),r=0,l=0,o=n[0];for(;o!==void 0;){if(r===o.index){let h;o.type===2?h=new j(a,a.nextSibling,this,e):o.type===1?h=new o.ctor(a,o.name,o.strings,this,e):o.type===6&&(h=new we(a,this,e)),this._$AV.push(h),o=n[++l]}r!==o?.index&&(a=T.nextNode(),r++)}return T.currentNode=R,s}p(e){let t=0;for(let n of this._$AV)n!==void 0&&(n.strings!==void 0?(n._$AI(e,n,t),t+=n.strings.length-2):n._$AI(e[t])),t++}},j=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(e,t,n,s){this.type=2,this._$AH=p,this._$AN=void 0,this._$AA=e,this._$AB=t,this._$AM=n,this.options=s,this._$Cv=s?.isConnected??!0}get parentNode(){let e=this._$AA.parentNode,t=this._$AM;return t!==void 0&&e?.nodeType===11&&(e=t.parentNode),e}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(e,t=this){e=N(this,e,t),B(e)?e===p||e==null||e===""?(this._$AH!==p&&this._$AR(),this._$AH=p):e!==this._$AH&&e!==L&&this._(e):e._$litType$!==void 0?this.$(e):e.nodeType!==void 0?this.T(e):Ut(e)?this.k(e):this._(e)}O(e){return this._$AA.parentNode.insertBefore(e,this._$AB)}T(e){this._$AH!==e&&(this._$AR(),this._$AH=this.O(e))}_(e){this._$AH!==p&&B(this._$AH)?this._$AA.nextSibling.data=e:this.T(R.createTextNode(e)),this._$AH=e}$(e){let{values:t,_$litType$:n}=e,s=typeof n=="number"?this._$AC(e):(n.el===void 0&&(n.el=F.createElement(st(n.h,n.h[0]),this.options)),n);if(this._$AH?._$AD===s)this._$AH.p(t);else{let a=new be(s,this),r=a.u(this.options);a.p(t),this.T(r),this._$AH=a}}_$AC(e){let t=et.get(e.strings);return t===void 0&&et.set(e.strings,t=new F(e)),t}k(e){Ce(this._$AH)||(this._$AH=[],this._$AR());let t=this._$AH,n,s=0;for(let a of e)s===t.length?t.push(n=new i(this.O(V()),this.O(V()),this,this.options)):n=t[s],n._$AI(a),s++;s<t.length&&(this._$AR(n&&n._$AB.nextSibling,s),t.length=s)}_$AR(e=this._$AA.nextSibling,t){for(this._$AP?.(!1,!0,t);e!==this._$AB;){let n=Xe(e).nextSibling;Xe(e).remove(),e=n}}setConnected(e){this._$AM===void 0&&(this._$Cv=e,this._$AP?.(e))}},z=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(e,t,n,s,a){this.type=1,this._$AH=p,this._$AN=void 0,this.element=e,this.name=t,this._$AM=s,this.options=a,n.length>2||n[0]!==""||n[1]!==""?(this._$AH=Array(n.length-1).fill(new String),this.strings=n):this._$AH=p}_$AI(e,t=this,n,s){let a=this.strings,r=!1;if(a===void 0)e=N(this,e,t,0),r=!B(e)||e!==this._$AH&&e!==L,r&&(this._$AH=e);else{let l=e,o,h;for(e=a[0],o=0;o<a.length-1;o++)h=N(this,l[n+o],t,o),h===L&&(h=this._$AH[o]),r||=!B(h)||h!==this._$AH[o],h===p?e=p:e!==p&&(e+=(h??"")+a[o+1]),this._$AH[o]=h}r&&!s&&this.j(e)}j(e){e===p?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,e??"")}},ye=class extends z{constructor(){super(...arguments),this.type=3}j(e){this.element[this.name]=e===p?void 0:e}},$e=class extends z{constructor(){super(...arguments),this.type=4}j(e){this.element.toggleAttribute(this.name,!!e&&e!==p)}},xe=class extends z{constructor(e,t,n,s,a){super(e,t,n,s,a),this.type=5}_$AI(e,t=this){if((e=N(this,e,t,0)??p)===L)return;let n=this._$AH,s=e===p&&n!==p||e.capture!==n.capture||e.once!==n.once||e.passive!==n.passive,a=e!==p&&(n===p||s);s&&this.element.removeEventListener(this.name,this,n),a&&this.element.addEventListener(this.name,this,e),this._$AH=e}handleEvent(e){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,e):this._$AH.handleEvent(e)}},we=class{constructor(e,t,n){this.element=e,this.type=6,this._$AN=void 0,this._$AM=t,this.options=n}get _$AU(){return this._$AM._$AU}_$AI(e){N(this,e)}};var qt=Ee.litHtmlPolyfillSupport;qt?.(F,j),(Ee.litHtmlVersions??=[]).push("3.3.3");var rt=(i,e,t)=>{let n=t?.renderBefore??e,s=n._$litPart$;if(s===void 0){let a=t?.renderBefore??null;n._$litPart$=s=new j(e.insertBefore(V(),a),a,void 0,t??{})}return s._$AI(i),s};var ke=globalThis,x=class extends w{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let e=super.createRenderRoot();return this.renderOptions.renderBefore??=e.firstChild,e}update(e){let t=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(e),this._$Do=rt(t,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return L}};x._$litElement$=!0,x.finalized=!0,ke.litElementHydrateSupport?.({LitElement:x});var Vt=ke.litElementPolyfillSupport;Vt?.({LitElement:x});(ke.litElementVersions??=[]).push("4.2.2");function v(i){if(!i)return null;let e=Date.parse(i);return Number.isNaN(e)?null:e}function Bt(i){let e=i.now.getTime(),t=i.plan?.slots??[],n=t.map(o=>v(o.start)).filter(o=>o!==null),s=t.map(o=>v(o.end)).filter(o=>o!==null),a=Math.min(e,...n),r;if(s.length)r=Math.max(...s,v(i.plan?.departure)??0,v(i.plan?.ready_by)??0);else{let o=Math.max(0,...i.prices.map(h=>v(h.end)??0));r=o>a?Math.min(o,a+864e5):a+864e5}let l=v(i.plan?.departure);return l!==null&&l>r&&(r=l),r-a<36e5&&(r=a+36e5),{start:a,end:r}}function Ft(i,e,t){let n=e-i,s=Math.max(1,Math.floor(t/56)),a=[1,2,3,6,12,24].find(o=>n/(o*36e5)<=s)??24,r=Math.ceil(i/(a*36e5))*a*36e5,l=[];for(let o=r;o<=e;o+=a*36e5)l.push(o);return l}function at(i,e){let{width:t}=e,n=e.axis??18,s=Math.max(10,e.height-n),a=Math.min(e.top??16,s/2),r=s-a,l=r*(e.priceShare??.45),{start:o,end:h}=Bt(i),d=u=>(u-o)/(h-o)*t,m=(u,_)=>{if(u===null||_===null)return null;let $=Math.max(u,o),S=Math.min(_,h);return S>$?[$,S]:null},f=i.prices.filter(u=>m(v(u.start),v(u.end))).map(u=>u.price),b=f.length?Math.min(...f):null,y=f.length?Math.max(...f):null,pe=[];for(let u of i.prices){let _=m(v(u.start),v(u.end));if(!_||b===null||y===null)continue;let $=y>b?.25+.75*(u.price-b)/(y-b):.5,S=l*$;pe.push({x:d(_[0]),width:d(_[1])-d(_[0]),y:s-S,height:S,price:u.price,period:u.period})}let Ne=i.plan?.slots??[],At=i.caps.map(u=>u.limit_kw??0),J=Math.max(1,...Ne.map(u=>u.power_kw||0),...At)*1.1,ze=[];for(let u of Ne){let _=m(v(u.start),v(u.end));if(!_||!(u.power_kw>0))continue;let $=r*u.power_kw/J,S=d(_[0]),Pt=Math.max(1,d(_[1])-S-1);ze.push({x:S,y:s-$,width:Pt,height:$,power:u.power_kw})}let Me=[],He=[...i.caps];for(let u of i.events)u&&u.kind==="load_control"&&!i.caps.some(_=>_.start===u.start)&&He.push({start:u.start,end:u.end,limit_kw:u.limit_kw??null,name:u.name??null});for(let u of He){let _=m(v(u.start),v(u.end));if(!_)continue;let $=u.limit_kw??null;Me.push({x:d(_[0]),y:0,width:d(_[1])-d(_[0]),height:s,limit:$,limitY:$===null?null:s-r*Math.min($,J)/J,name:u.name??null})}let Ue=u=>{let _=v(u);return _!==null&&_>=o&&_<=h?d(_):null},he=i.now.getTime(),Q=Ue(i.plan?.departure),Ie=null,qe=pe.find(u=>u.price===y);if(qe&&y!==null){let u=Math.min(Math.max(qe.x+2,2),Math.max(2,t-84));Q!==null&&u+84>Q-120&&u<Q&&(u=2),Ie={x:u,y:Math.max(9,a-5),price:y}}return{width:t,height:e.height,plotHeight:s,top:a,start:o,end:h,prices:pe,bars:ze,caps:Me,nowX:he>=o&&he<=h?d(he):null,departureX:Q,readyByX:Ue(i.plan?.ready_by),ticks:Ft(o,h,t).map(u=>({x:d(u),time:new Date(u).toISOString()})),maxPower:J,minPrice:b,maxPrice:y,priceLabel:Ie}}function se(){return typeof customElements<"u"&&customElements.get("ha-selector")!==void 0}function re(i,e,t){return c`<div class="field"><ha-selector
    id=${i.id}
    class="control ${t}"
    data-control=${t}
    .hass=${i.hass}
    .selector=${e}
    .value=${i.value}
    .label=${i.label}
    .required=${t==="select"}
    .disabled=${!!i.disabled}
    @value-changed=${n=>{n.stopPropagation();let s=n.detail?.value??(t==="text"?"":void 0);s!=null&&s!==i.value&&i.onChange(s)}}
  ></ha-selector></div>`}var ae=i=>c`<label for=${i.id}>${i.label}</label>`;function jt(){let i=typeof customElements<"u"?customElements.get("ha-select"):void 0;return i!==void 0&&"options"in i.prototype&&"clearable"in i.prototype}function oe(i){return jt()?c`<div class="field"><ha-select
      id=${i.id}
      class="control select"
      data-control="select"
      .label=${i.label}
      .value=${i.value}
      .options=${i.options}
      .disabled=${!!i.disabled}
      @selected=${e=>{e.stopPropagation();let t=e.detail?.value;typeof t=="string"&&t!==i.value&&i.onChange(t)}}
    ></ha-select></div>`:se()?re(i,{select:{mode:"dropdown",options:i.options}},"select"):c`<div class="field">
    ${ae(i)}
    <select
      id=${i.id}
      data-control="select"
      ?disabled=${i.disabled}
      @change=${e=>i.onChange(e.target.value)}
    >
      ${i.options.map(e=>c`<option value=${e.value} ?selected=${e.value===i.value}>${e.label}</option>`)}
    </select>
  </div>`}function ot(i){return se()?re(i,{time:{no_second:!0}},"time"):c`<div class="field">
    ${ae(i)}
    <input
      id=${i.id}
      data-control="time"
      type="time"
      class="time"
      .value=${i.value.slice(0,5)}
      ?disabled=${i.disabled}
      @change=${e=>i.onChange(e.target.value)}
    />
  </div>`}function K(i){if(se()){let e={mode:"box",step:i.step??1};return i.min!==void 0&&(e.min=i.min),i.max!==void 0&&(e.max=i.max),i.unit&&(e.unit_of_measurement=i.unit),re(i,{number:e},"number")}return c`<div class="field">
    ${ae({id:i.id,label:i.unit?`${i.label} (${i.unit})`:i.label})}
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
  </div>`}function lt(i){return se()?re(i,{text:{}},"text"):c`<div class="field">
    ${ae(i)}
    <input
      id=${i.id}
      data-control="text"
      type="text"
      .value=${i.value}
      ?disabled=${i.disabled}
      @input=${e=>i.onChange(e.target.value)}
    />
  </div>`}var dt={event_history:"Event history","perf.line":"{when}: {outcome}","perf.shifted":"{kwh} shifted","perf.reduced":"{kwh} reduced","perf.no_baseline":"no baseline","perf.target_met":"target met","perf.target_missed":"target missed","perf.credit":"estimated credit {amount}",missing_charger:"The charger chosen for this card is no longer in PEV Portal. Edit the card to choose another one.",invalid_config:"Invalid card configuration","event.local_active":"Local event in progress: {name}","event.local_upcoming":"Upcoming local event: {name}","event.utility_active":"Utility event in progress: {name}","event.utility_upcoming":"Upcoming utility event: {name}",opted_out:"Opted out","mode.immediate":"Immediately","mode.cheapest":"Cheapest by departure","mode.solar":"Solar","mode.off":"Off","period.off_peak":"Off-peak","period.mid_peak":"Mid-peak","period.on_peak":"Peak","period.flat":"Flat rate","period.rtp":"Real-time price","period.critical_peak":"Critical peak",paused_plan:"Charging is paused: the plan resumes when you resume charging.","explain.cap":"{name} from {start} to {end} delays {kwh}","explain.circuit":"{name} shared with the other vehicles delays {kwh}","explain.combined":"together, {name} delay {kwh}","explain.departure":"departure at {start} leaves {kwh} short even at full power","explain.horizon":"the planning horizon ends at {start}, {kwh} short","explain.charger":"the charger's power steps leave {kwh} short","explain.mode":"charging is off ({kwh} not planned)","explain.other":"{name} delays {kwh}","explain.ready":"ready at {time}","explain.ready_instead":"ready at {time} instead of {without}","editor.missing_charger":"Charger no longer available",loading:"Loading…",no_charger:"No PEV Portal charger found. Set up PEV Portal first.",error:"Error: {message}","state.unplugged":"Unplugged","state.validating":"Validating","state.waiting":"Waiting","state.charging":"Charging","state.paused":"Paused","state.completed":"Completed","state.fault":"Fault","outcome.pending":"Validating","outcome.home":"Home","outcome.guest_premise_pays":"Guest, premise pays","outcome.guest_pev_pays":"Guest, vehicle owner pays","outcome.roaming":"Roaming","outcome.not_enrolled":"Not enrolled","outcome.no_communications":"No communications","party.premise_customer":"premise customer","party.pev_customer":"vehicle customer","party.clearinghouse":"clearinghouse (roaming)",billed_to:"billed to {party}",program_rate:"program rate",utility_link:"Utility link: {protocol}",utility_link_down:"Utility link: {protocol} (not reachable)",vehicle:"Vehicle",vehicle_auto:"Automatic",unknown_vehicle:"Unknown vehicle",no_vehicle:"No vehicle plugged in",power:"Power",energy:"Energy",cost:"Cost so far",price:"Price",period_until:"{period} until {time}",charge_now:"Charge now",pause:"Pause charging",resume:"Resume charging",charging_enabled:"Charging enabled",charge_mode:"Charge mode",departure:"Departure",target:"Target",set:"Set","event.until":"until {time}","event.from":"from {start} to {end}","event.level":"level {level}","event.price":"price {price}","event.limit":"limit {limit}","event.cap_now":"Charging is capped at {limit}",opt_out:"Opt out",plan:"Plan",no_plan:"No charging plan: prices of the next 24 hours.",ready_by:"Ready by {time}",not_reachable:"Target not reachable by departure",plan_cost:"Plan cost {cost}",legend_price:"Price",legend_power:"Planned power",legend_cap:"Cap",legend_departure:"Departure",now:"now",history:"Last sessions",no_history:"No finished sessions yet.",intervals:"Intervals",no_intervals:"No intervals.","quality.OK":"OK","quality.ESTIMATED":"Estimated","quality.MISSING":"Missing",quality:"Data quality",time:"Time",export_csv:"Export CSV",export_session:"CSV",exported:"Export downloaded",add_event:"Add a local event",event_kind:"Kind","kind.price":"Price event","kind.load_control":"Load control",event_name:"Name",event_duration:"Duration",event_price:"Price",event_limit:"Power limit",add:"Add","done.vehicle":"Vehicle set to {vehicle}","done.charge_now":"Charging now","done.pause":"Charging paused","done.resume":"Charging resumed","done.opt_out":"Opted out of the event","opt_out.confirm":`Opting out: {consequence}
Opt out anyway?`,"event.consequence":"Opting out: {consequence}","done.event":"Event added","done.set":"{what} set",failed:"{action} failed: {message}","editor.device_id":"Charger","editor.title":"Title","editor.show_plan":"Show the plan","editor.show_history":"Show the last sessions","editor.show_event_form":"Show the local event form",card_name:"PEV Portal charger",card_description:"Shows and steers an EV charger under a utility program."},Kt={event_history:"Ereignisse","perf.line":"{when}: {outcome}","perf.shifted":"{kwh} verschoben","perf.reduced":"{kwh} weniger","perf.no_baseline":"keine Referenz","perf.target_met":"Ziel erreicht","perf.target_missed":"Ziel verfehlt","perf.credit":"geschätzte Gutschrift {amount}",missing_charger:"Die für diese Karte gewählte Ladestation gibt es in PEV Portal nicht mehr. Bearbeite die Karte, um eine andere zu wählen.",invalid_config:"Ungültige Kartenkonfiguration","event.local_active":"Lokales Ereignis läuft: {name}","event.local_upcoming":"Bevorstehendes lokales Ereignis: {name}","event.utility_active":"Ereignis des Versorgers läuft: {name}","event.utility_upcoming":"Bevorstehendes Ereignis des Versorgers: {name}",opted_out:"Nicht teilgenommen","mode.immediate":"Sofort","mode.cheapest":"Am günstigsten bis zur Abfahrt","mode.solar":"Solar","mode.off":"Aus","period.off_peak":"Niedertarif","period.mid_peak":"Mitteltarif","period.on_peak":"Hochtarif","period.flat":"Einheitspreis","period.rtp":"Echtzeitpreis","period.critical_peak":"Kritische Spitze",paused_plan:"Laden ist pausiert: Der Plan gilt wieder, sobald du das Laden fortsetzt.","explain.cap":"{name} von {start} bis {end} verzögert {kwh}","explain.circuit":"{name}, geteilt mit den anderen Fahrzeugen, verzögert {kwh}","explain.combined":"zusammen verzögern {name} {kwh}","explain.departure":"bei Abfahrt um {start} fehlen selbst mit voller Leistung {kwh}","explain.horizon":"der Planungszeitraum endet um {start}, es fehlen {kwh}","explain.charger":"die Leistungsstufen der Ladestation lassen {kwh} offen","explain.mode":"Laden ist aus ({kwh} nicht geplant)","explain.other":"{name} verzögert {kwh}","explain.ready":"fertig um {time}","explain.ready_instead":"fertig um {time} statt {without}","editor.missing_charger":"Ladestation nicht mehr vorhanden",loading:"Wird geladen…",no_charger:"Keine PEV-Portal-Ladestation gefunden. Richte zuerst PEV Portal ein.",error:"Fehler: {message}","state.unplugged":"Nicht angesteckt","state.validating":"Wird geprüft","state.waiting":"Wartet","state.charging":"Lädt","state.paused":"Pausiert","state.completed":"Abgeschlossen","state.fault":"Störung","outcome.pending":"Wird geprüft","outcome.home":"Zuhause","outcome.guest_premise_pays":"Gast, Hausanschluss zahlt","outcome.guest_pev_pays":"Gast, Fahrzeughalter zahlt","outcome.roaming":"Roaming","outcome.not_enrolled":"Nicht angemeldet","outcome.no_communications":"Keine Verbindung","party.premise_customer":"Kunde des Hausanschlusses","party.pev_customer":"Fahrzeugkunde","party.clearinghouse":"Clearingstelle (Roaming)",billed_to:"abgerechnet an {party}",program_rate:"Programmtarif",utility_link:"Verbindung zum Versorger: {protocol}",utility_link_down:"Verbindung zum Versorger: {protocol} (nicht erreichbar)",vehicle:"Fahrzeug",vehicle_auto:"Automatisch",unknown_vehicle:"Unbekanntes Fahrzeug",no_vehicle:"Kein Fahrzeug angesteckt",power:"Leistung",energy:"Energie",cost:"Bisherige Kosten",price:"Preis",period_until:"{period} bis {time}",charge_now:"Jetzt laden",pause:"Laden pausieren",resume:"Laden fortsetzen",charging_enabled:"Laden erlaubt",charge_mode:"Lademodus",departure:"Abfahrt",target:"Ziel",set:"Setzen","event.until":"bis {time}","event.from":"von {start} bis {end}","event.level":"Stufe {level}","event.price":"Preis {price}","event.limit":"Grenze {limit}","event.cap_now":"Laden ist auf {limit} begrenzt",opt_out:"Nicht teilnehmen",plan:"Plan",no_plan:"Kein Ladeplan: Preise der nächsten 24 Stunden.",ready_by:"Fertig um {time}",not_reachable:"Ziel bis zur Abfahrt nicht erreichbar",plan_cost:"Kosten des Plans {cost}",legend_price:"Preis",legend_power:"Geplante Leistung",legend_cap:"Begrenzung",legend_departure:"Abfahrt",now:"jetzt",history:"Letzte Ladevorgänge",no_history:"Noch keine abgeschlossenen Ladevorgänge.",intervals:"Intervalle",no_intervals:"Keine Intervalle.","quality.OK":"OK","quality.ESTIMATED":"Geschätzt","quality.MISSING":"Fehlend",quality:"Datenqualität",time:"Zeit",export_csv:"CSV exportieren",export_session:"CSV",exported:"Export heruntergeladen",add_event:"Lokales Ereignis hinzufügen",event_kind:"Art","kind.price":"Preisereignis","kind.load_control":"Laststeuerung",event_name:"Name",event_duration:"Dauer",event_price:"Preis",event_limit:"Leistungsgrenze",add:"Hinzufügen","done.vehicle":"Fahrzeug auf {vehicle} gesetzt","done.charge_now":"Lädt jetzt","done.pause":"Laden pausiert","done.resume":"Laden fortgesetzt","done.opt_out":"Vom Ereignis abgemeldet","opt_out.confirm":`Nicht teilnehmen: {consequence}
Trotzdem nicht teilnehmen?`,"event.consequence":"Nicht teilnehmen: {consequence}","done.event":"Ereignis hinzugefügt","done.set":"{what} gesetzt",failed:"{action} fehlgeschlagen: {message}","editor.device_id":"Ladestation","editor.title":"Titel","editor.show_plan":"Plan anzeigen","editor.show_history":"Letzte Ladevorgänge anzeigen","editor.show_event_form":"Formular für lokale Ereignisse anzeigen",card_name:"PEV-Portal-Ladestation",card_description:"Zeigt und steuert eine Ladestation in einem Programm des Versorgers."},Wt={event_history:"Historique des événements","perf.line":"{when} : {outcome}","perf.shifted":"{kwh} décalés","perf.reduced":"{kwh} en moins","perf.no_baseline":"pas de référence","perf.target_met":"objectif atteint","perf.target_missed":"objectif manqué","perf.credit":"crédit estimé {amount}",missing_charger:"La borne choisie pour cette carte n'existe plus dans PEV Portal. Modifiez la carte pour en choisir une autre.",invalid_config:"Configuration de carte invalide","event.local_active":"Événement local en cours : {name}","event.local_upcoming":"Événement local à venir : {name}","event.utility_active":"Événement du fournisseur en cours : {name}","event.utility_upcoming":"Événement du fournisseur à venir : {name}",opted_out:"Retiré","mode.immediate":"Immédiatement","mode.cheapest":"Au moins cher avant le départ","mode.solar":"Solaire","mode.off":"Arrêt","period.off_peak":"Heures creuses","period.mid_peak":"Heures intermédiaires","period.on_peak":"Heures pleines","period.flat":"Prix unique","period.rtp":"Prix en temps réel","period.critical_peak":"Pointe critique",paused_plan:"La charge est en pause : le plan reprend quand vous reprenez la charge.","explain.cap":"{name} de {start} à {end} retarde {kwh}","explain.circuit":"{name} partagé avec les autres véhicules retarde {kwh}","explain.combined":"ensemble, {name} retardent {kwh}","explain.departure":"le départ à {start} laisse {kwh} manquants même à pleine puissance","explain.horizon":"l'horizon de planification se termine à {start}, {kwh} manquants","explain.charger":"les paliers de puissance de la borne laissent {kwh} manquants","explain.mode":"la charge est arrêtée ({kwh} non planifiés)","explain.other":"{name} retarde {kwh}","explain.ready":"prêt à {time}","explain.ready_instead":"prêt à {time} au lieu de {without}","editor.missing_charger":"Borne plus disponible",loading:"Chargement…",no_charger:"Aucune borne PEV Portal trouvée. Configurez d'abord PEV Portal.",error:"Erreur : {message}","state.unplugged":"Débranché","state.validating":"Validation","state.waiting":"En attente","state.charging":"En charge","state.paused":"En pause","state.completed":"Terminé","state.fault":"Défaut","outcome.pending":"Validation","outcome.home":"Domicile","outcome.guest_premise_pays":"Invité, le site paie","outcome.guest_pev_pays":"Invité, le propriétaire du véhicule paie","outcome.roaming":"Itinérance","outcome.not_enrolled":"Non inscrit","outcome.no_communications":"Pas de communication","party.premise_customer":"client du site","party.pev_customer":"client du véhicule","party.clearinghouse":"chambre de compensation (itinérance)",billed_to:"facturé à : {party}",program_rate:"tarif du programme",utility_link:"Liaison avec le fournisseur : {protocol}",utility_link_down:"Liaison avec le fournisseur : {protocol} (injoignable)",vehicle:"Véhicule",vehicle_auto:"Automatique",unknown_vehicle:"Véhicule inconnu",no_vehicle:"Aucun véhicule branché",power:"Puissance",energy:"Énergie",cost:"Coût à ce jour",price:"Prix",period_until:"{period} jusqu'à {time}",charge_now:"Charger maintenant",pause:"Mettre en pause",resume:"Reprendre la charge",charging_enabled:"Charge autorisée",charge_mode:"Mode de charge",departure:"Départ",target:"Objectif",set:"Appliquer","event.until":"jusqu'à {time}","event.from":"de {start} à {end}","event.level":"niveau {level}","event.price":"prix {price}","event.limit":"limite {limit}","event.cap_now":"La charge est limitée à {limit}",opt_out:"Se retirer",plan:"Plan",no_plan:"Pas de plan de charge : prix des prochaines 24 heures.",ready_by:"Prêt à {time}",not_reachable:"Objectif inatteignable avant le départ",plan_cost:"Coût du plan {cost}",legend_price:"Prix",legend_power:"Puissance prévue",legend_cap:"Limite",legend_departure:"Départ",now:"maintenant",history:"Dernières sessions",no_history:"Aucune session terminée.",intervals:"Intervalles",no_intervals:"Aucun intervalle.","quality.OK":"OK","quality.ESTIMATED":"Estimé","quality.MISSING":"Manquant",quality:"Qualité des données",time:"Heure",export_csv:"Exporter en CSV",export_session:"CSV",exported:"Export téléchargé",add_event:"Ajouter un événement local",event_kind:"Type","kind.price":"Événement de prix","kind.load_control":"Pilotage de charge",event_name:"Nom",event_duration:"Durée",event_price:"Prix",event_limit:"Limite de puissance",add:"Ajouter","done.vehicle":"Véhicule : {vehicle}","done.charge_now":"Charge immédiate","done.pause":"Charge en pause","done.resume":"Charge reprise","done.opt_out":"Retiré de l'événement","opt_out.confirm":`Se retirer : {consequence}
Se retirer quand même ?`,"event.consequence":"Se retirer : {consequence}","done.event":"Événement ajouté","done.set":"{what} appliqué",failed:"Échec de {action} : {message}","editor.device_id":"Borne","editor.title":"Titre","editor.show_plan":"Afficher le plan","editor.show_history":"Afficher les dernières sessions","editor.show_event_form":"Afficher le formulaire d'événement local",card_name:"Borne PEV Portal",card_description:"Affiche et pilote une borne de recharge dans un programme du fournisseur."},Ae={en:dt,de:Kt,fr:Wt};function Xt(i){if(!i)return"en";let e=i.toLowerCase();if(Ae[e])return e;let t=e.split(/[-_]/)[0];return Ae[t]?t:"en"}function g(i,e,t={}){return(Ae[Xt(i)][e]??dt[e]??e).replace(/\{(\w+)\}/g,(s,a)=>a in t?String(t[a]):s)}function A(i,e,t=2){return i==null||!Number.isFinite(i)?"–":new Intl.NumberFormat(e,{minimumFractionDigits:t,maximumFractionDigits:t}).format(i)}function W(i,e){return i==null||!Number.isFinite(i)?"–":`${A(i,e,Math.abs(i)<10?2:1)} kWh`}function M(i,e){return i==null||!Number.isFinite(i)?"–":`${A(i,e,i===0?0:1)} kW`}function O(i,e,t,n=2){if(i==null||!Number.isFinite(i))return"–";try{return new Intl.NumberFormat(t,{style:"currency",currency:e,minimumFractionDigits:n,maximumFractionDigits:n}).format(i)}catch{return`${A(i,t,n)} ${e}`}}function Gt(i){try{return new Intl.NumberFormat("en",{style:"currency",currency:i}).resolvedOptions().maximumFractionDigits??2}catch{return 2}}function ct(i,e){let t=Gt(e),n=i*10**t;return Math.abs(Math.round(n)-n)<1e-6?t:t+1}function X(i,e,t){return i==null||!Number.isFinite(i)?"–":`${O(i,e,t,ct(i,e))}/kWh`}function ut(i,e,t){return i==null||!Number.isFinite(i)?"–":O(i,e,t,ct(i,e))}function pt(i){if(!i)return null;let e=new Date(i);return Number.isNaN(e.getTime())?null:e}function ht(i){if(i)try{return new Intl.DateTimeFormat("en",{timeZone:i}),i}catch{return}}function P(i,e,t){let n=pt(i);return n?new Intl.DateTimeFormat(e,{hour:"2-digit",minute:"2-digit",timeZone:ht(t)}).format(n):"–"}function C(i,e,t,n=new Date){let s=pt(i);if(!s)return"–";let a=ht(t),r=new Intl.DateTimeFormat("en-CA",{dateStyle:"short",timeZone:a});return r.format(s)===r.format(n)?P(i,e,a):new Intl.DateTimeFormat(e,{day:"numeric",month:"short",hour:"2-digit",minute:"2-digit",timeZone:a}).format(s)}var H={show_plan:!0,show_history:!0,show_event_form:!0};function le(i){let e={...i};for(let[t,n]of Object.entries(H))typeof e[t]!="boolean"&&(e[t]=n);return e}function mt(i){let e={...i};for(let[t,n]of Object.entries(H))e[t]===n&&delete e[t];return e.title||delete e.title,e.device_id||delete e.device_id,e}function de(i){let e=(i?.chargers??[]).filter(n=>n.device_id),t=new Set(e.map(n=>n.premise));return e.map(n=>({value:n.device_id,label:t.size>1?`${n.name} (${n.premise})`:n.name}))}function gt(i,e){let t=i?.chargers??[],{device_id:n,charger_id:s}=e;if(!t.length)return{kind:"none"};if(n||s){let a=t.find(r=>n&&r.device_id===n||s&&r.charger_id===s);return a?{kind:"charger",charger:a}:{kind:"missing"}}return{kind:"charger",charger:t[0]}}function Pe(i){return i.session!==null}function Yt(i){return i.session!==null&&!i.charging_enabled}function _t(i){return Yt(i)?"paused":i.plan?"plan":"prices"}function De(i){return i.source==="utility"?"utility":"local"}function ft(i,e){return`event.${De(i)}_${e?"active":"upcoming"}`}function vt(i){return i?i.opted_out?"opted_out":i.opt_out_allowed?"offer":"none":"none"}function bt(i,e){let t=`mode.${e}`,n=g(i,t);return n===t?e:n}function ce(i,e){let t=`period.${e}`,n=g(i,t);return n===t?e:n}function yt(i,e){return e.name||g(i,`kind.${e.kind}`)}function Te(i){let e=/^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(i.trim());return e?`${e[1].padStart(2,"0")}:${e[2]}:${e[3]??"00"}`:i}var Zt=new Set(["cap","circuit","combined","departure","horizon","charger","mode"]);function $t(i,e,t,n=new Date){let s=o=>C(o,i,t,n),a=Zt.has(e.constraint)?e.constraint:"other",r={name:e.name,start:s(e.start),end:s(e.end),kwh:W(e.kwh,i)},l=g(i,`explain.${a}`,r);if(e.ready_by||e.ready_without){let o=["cap","circuit","combined"].includes(e.constraint)&&e.ready_without;l+=`; ${g(i,o?"explain.ready_instead":"explain.ready",{time:s(e.ready_by),without:s(e.ready_without)})}`}return l}function Re(i,e,t){let n=[...e??[]];return e!==void 0&&t&&!n.some(s=>s.value===t)&&n.push({value:t,label:g(i,"editor.missing_charger")}),[{name:"device_id",required:!0,selector:{select:{mode:"dropdown",options:n}}},{name:"title",selector:{text:{}}},{type:"grid",name:"",schema:Object.keys(H).map(s=>({name:s,default:H[s],selector:{boolean:{}}}))}]}function xt(i,e,t){let n=new Date(i.start),s="";if(!Number.isNaN(n.getTime()))try{s=new Intl.DateTimeFormat(e,{weekday:"long",timeZone:t}).format(n)}catch{s=new Intl.DateTimeFormat(e,{weekday:"long"}).format(n)}let a=`${s} ${P(i.start,e,t)}-${P(i.end,e,t)}`,r=[],l=h=>`${A(h,e,1)} kWh`;i.shifted_kwh!==null&&i.shifted_kwh!==void 0?r.push(g(e,"perf.shifted",{kwh:l(i.shifted_kwh)})):i.delivered_kwh!==null&&i.delivered_kwh!==void 0?r.push(g(e,"perf.reduced",{kwh:l(i.delivered_kwh)})):r.push(g(e,"perf.no_baseline")),i.target_met===!0?r.push(g(e,"perf.target_met")):i.target_met===!1&&r.push(g(e,"perf.target_missed"));let o=i.incentive===null?NaN:Number(i.incentive);if(Number.isFinite(o)){let h=`${A(o,e,2)}${i.currency?` ${i.currency}`:""}`;r.push(g(e,"perf.credit",{amount:h}))}return g(e,"perf.line",{when:a.trim(),outcome:r.join(", ")})}function wt(i,e){let t=i.utility;return!t||!t.protocol?null:g(e,t.connected?"utility_link":"utility_link_down",{protocol:t.protocol})}var ue="pev-portal-card-editor",G=class extends x{constructor(){super(...arguments);this._loading=!1}setConfig(t){this._config=t}get _lang(){return this.hass?.locale?.language??this.hass?.language??"en"}updated(){this.hass&&this._chargers===void 0&&!this._loading&&this._load()}async _load(){this._loading=!0;try{let t=await this.hass.callWS({type:"pev_portal/dashboard"});this._chargers=de(t),this._error=void 0}catch(t){this._chargers=[],this._error=t&&typeof t=="object"&&"message"in t?String(t.message):String(t)}finally{this._loading=!1}}_changed(t){if(!this._config)return;let n=mt({...this._config,...t});this._config=n,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:n},bubbles:!0,composed:!0}))}render(){if(!this._config)return p;let t=this._lang,n=le(this._config),s=this._error?c`<div class="error">${g(t,"error",{message:this._error})}</div>`:p;if(customElements.get("ha-form"))return c`${s}<ha-form
          .hass=${this.hass}
          .data=${n}
          .schema=${Re(t,this._chargers,this._config.device_id)}
          .computeLabel=${r=>g(t,`editor.${r.name}`)}
          @value-changed=${r=>{r.stopPropagation(),this._changed(r.detail.value)}}
        ></ha-form>`;let a=Re(t,this._chargers,this._config.device_id)[0];return c`${s}
      <label>
        ${g(t,"editor.device_id")}
        <select @change=${r=>this._changed({device_id:r.target.value})}>
          ${a.selector.select.options.map(r=>c`<option value=${r.value} ?selected=${r.value===n.device_id}>${r.label}</option>`)}
        </select>
      </label>
      <label>
        ${g(t,"editor.title")}
        <input .value=${n.title??""} @change=${r=>this._changed({title:r.target.value})} />
      </label>
      ${Object.keys(H).map(r=>c`<label>
          <input type="checkbox" .checked=${n[r]!==!1} @change=${l=>this._changed({[r]:l.target.checked})} />
          ${g(t,`editor.${r}`)}
        </label>`)}`}};G.properties={hass:{attribute:!1},_config:{state:!0},_chargers:{state:!0},_error:{state:!0}};var Z="pev-portal-card",Jt="0.1.0",Qt="/api/pev_portal/export",Et=.6,Ct=3.7,St="en";function Le(i){return i&&typeof i=="object"&&"message"in i?String(i.message):String(i)}var Y=class extends x{constructor(){super(),this._config={type:`custom:${Z}`},this._intervals={},this._width=320,this._eventKind="price",this._draft={}}setConfig(e){if(!e||typeof e!="object")throw new Error(g(St,"invalid_config"));this._config=le(e)}getCardSize(){return 9}getGridOptions(){return{columns:12,min_columns:6,min_rows:4}}static async getStubConfig(e){try{let t=await e?.callWS({type:"pev_portal/dashboard"}),n=de(t)[0];return n?{device_id:n.value}:{}}catch{return{}}}static getConfigElement(){return document.createElement(ue)}connectedCallback(){super.connectedCallback(),this._subscribe();for(let e of["ha-select","ha-selector"])typeof customElements<"u"&&!customElements.get(e)&&customElements.whenDefined(e).then(()=>this.requestUpdate(),()=>{})}disconnectedCallback(){super.disconnectedCallback(),this._unsubscribeAll(),this._resizeObserver?.disconnect(),this._resizeObserver=void 0}updated(e){e.has("hass")&&(St=this._lang,this._subscribe());let t=this.renderRoot.querySelector(".chart");t&&!this._resizeObserver&&typeof ResizeObserver<"u"&&(this._resizeObserver=new ResizeObserver(n=>{let s=Math.round(n[0]?.contentRect.width??0);s>0&&Math.abs(s-this._width)>1&&(this._width=s)}),this._resizeObserver.observe(t))}_subscribe(){this._unsubscribe||!this.hass||!this.isConnected||(this._unsubscribe=this.hass.connection.subscribeMessage(e=>{this._data=e,this._error=void 0},{type:"pev_portal/subscribe_dashboard"}),this._unsubscribe.catch(e=>{this._error=Le(e),this._unsubscribe=void 0}))}_unsubscribeAll(){let e=this._unsubscribe;this._unsubscribe=void 0,e?.then(t=>t()).catch(()=>{})}get _lang(){return this.hass?.locale?.language??this.hass?.language??"en"}_t(e,t){return g(this._lang,e,t)}get _tz(){return this.hass?.config?.time_zone}_entity(e,t){let n=e.entities[t];return n?this.hass?.states[n]:void 0}async _run(e,t,n){this._busy=e,this._status=void 0;try{await n(),this._status={ok:!0,text:t}}catch(s){this._status={ok:!1,text:this._t("failed",{action:this._t(e),message:Le(s)})}}finally{this._busy=void 0}}_selectVehicle(e,t){let n=e.entities.vehicle;if(!n||!this.hass)return;let s=t==="auto"?this._t("vehicle_auto"):t;this._run("vehicle",this._t("done.vehicle",{vehicle:s}),()=>this.hass.callService("select","select_option",{entity_id:n,option:t}))}_chargeNow(e){let t=e.entities.charge_now;!t||!this.hass||this._run("charge_now",this._t("done.charge_now"),()=>this.hass.callService("button","press",{entity_id:t}))}_toggleCharging(e){let t=e.entities.charging_enabled;if(!t||!this.hass||!Pe(e))return;let n=e.charging_enabled;this._run(n?"pause":"resume",this._t(n?"done.pause":"done.resume"),()=>this.hass.callService("switch",n?"turn_off":"turn_on",{entity_id:t}))}_optOut(e,t){if(!this.hass||!e.device_id)return;let n=t.opt_out_consequence;n&&!window.confirm(this._t("opt_out.confirm",{consequence:n}))||this._run("opt_out",this._t("done.opt_out"),()=>this.hass.callService("pev_portal","opt_out",{device_id:e.device_id,confirm:!!n}))}_setEntity(e,t,n,s){let a=e.entities[t],r=s??this._draft[t];if(!a||r===void 0||!this.hass)return;let l=a.split(".")[0],o=this._t("done.set",{what:n});this._run(t==="charge_mode"?"charge_mode":t,o,async()=>{switch(l){case"select":await this.hass.callService("select","select_option",{entity_id:a,option:String(r)});break;case"time":await this.hass.callService("time","set_value",{entity_id:a,time:Te(String(r))});break;case"datetime":await this.hass.callService("datetime","set_value",{entity_id:a,datetime:String(r)});break;default:await this.hass.callService(l,"set_value",{entity_id:a,value:Number(r)})}let{[t]:h,...d}=this._draft;this._draft=d})}_setDraft(e,t){this._draft={...this._draft,[e]:t}}_addEvent(e){if(!this.hass)return;let t=(h,d)=>this._draft[`event_${h}`]??d,n=this._eventKind,s=Number(t("duration",1))||1,a=new Date,r=new Date(a.getTime()+s*36e5),l={config_entry_id:e.entry_id,kind:n,start:a.toISOString(),end:r.toISOString()},o=String(t("name","")).trim();o&&(l.name=o),n==="price"?l.price=Number(t("price",Et)):l.limit_kw=Number(t("limit",Ct)),this._run("add_event",this._t("done.event"),()=>this.hass.callService("pev_portal","add_local_event",l))}async _export(e,t){if(!this.hass)return;let n=new URLSearchParams({format:"csv",entry_id:e.entry_id});if(t){let s=e.sessions.find(a=>a.session_id===t);n.set("session_id",t),s&&(n.set("start",s.started_at),n.set("end",new Date(Date.parse(s.started_at)+1e3).toISOString()))}await this._run("export_csv",this._t("exported"),async()=>{let s=await this.hass.fetchWithAuth(`${Qt}?${n}`);if(!s.ok)throw new Error(`HTTP ${s.status}: ${await s.text()}`);let a=s.headers.get("Content-Disposition")??"",r=/filename="([^"]+)"/.exec(a)?.[1]??"pev_portal_sessions.csv",l=URL.createObjectURL(await s.blob()),o=document.createElement("a");o.href=l,o.download=r,o.style.display="none",this.renderRoot.appendChild(o),o.click(),o.remove(),setTimeout(()=>URL.revokeObjectURL(l),1e4)})}async _toggleSession(e,t){let n=t.target.open,s=this._intervals[e.session_id];if(!(!n||!this.hass||s&&typeof s!="string"||s==="loading")){this._intervals={...this._intervals,[e.session_id]:"loading"};try{let a=await this.hass.callWS({type:"pev_portal/session_intervals",session_id:e.session_id});this._intervals={...this._intervals,[e.session_id]:a}}catch(a){this._intervals={...this._intervals,[e.session_id]:Le(a)}}}}render(){if(this._error)return c`<ha-card><div class="message error">${this._t("error",{message:this._error})}</div></ha-card>`;if(!this._data)return c`<ha-card><div class="message">${this._t("loading")}</div></ha-card>`;let e=gt(this._data,this._config);if(e.kind==="missing")return c`<ha-card><div class="message error" data-test="missing-charger">${this._t("missing_charger")}</div></ha-card>`;if(e.kind==="none")return c`<ha-card><div class="message" data-test="no-charger">${this._t("no_charger")}</div></ha-card>`;let t=e.charger;return c`
      <ha-card data-charger=${t.charger_id}>
        ${this._renderHeader(t)} ${this._renderBanner(t)} ${this._renderStats(t)}
        ${this._renderControls(t)}
        <div class="status ${this._status?this._status.ok?"ok":"failed":""}" role="status" aria-live="polite" data-test="status">
          ${this._status?.text??""}
        </div>
        ${this._config.show_plan===!1?p:this._renderPlan(t)}
        ${this._config.show_history===!1?p:this._renderHistory(t)}
        ${this._config.show_event_form===!1?p:this._renderEventForm(t)}
      </ha-card>
    `}_renderHeader(e){let t=e.session,n=e.binding,s=t?t.vehicle??t.pev_id??this._t("unknown_vehicle"):this._t("no_vehicle"),a=wt(e,this._lang),r=n?.billing_party?this._t("billed_to",{party:this._t(`party.${n.billing_party}`)}):"";return c`
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
        <span class="vehicle" data-test="vehicle">${s}</span>
        ${n?c`<span class="outcome outcome-${n.outcome}" data-test="outcome">${this._t(`outcome.${n.outcome}`)}</span>
              ${r?c`<span class="party" data-test="party">${r}</span>`:p}
              ${n.program_rate?c`<span class="party">${this._t("program_rate")}</span>`:p}`:p}
      </div>
      ${a?c`<div class="utility" data-test="utility">${a}</div>`:p}
    `}_renderBanner(e){let t=e.event??e.next_event;if(!t&&e.cap_kw===null)return p;let n=!!e.event,s=[];t&&(t.level!==null&&t.level!==void 0&&s.push(this._t("event.level",{level:t.level})),t.price!==null&&t.price!==void 0&&s.push(this._t("event.price",{price:X(t.price,e.price.currency,this._lang)})),t.limit_kw!==null&&t.limit_kw!==void 0&&s.push(this._t("event.limit",{limit:M(t.limit_kw,this._lang)})),s.push(n?this._t("event.until",{time:C(t.end,this._lang,this._tz)}):this._t("event.from",{start:C(t.start,this._lang,this._tz),end:C(t.end,this._lang,this._tz)})));let a=t?yt(this._lang,t):"",r=vt(t);return c`
      <div class="banner ${n?"active":"upcoming"}" data-test="event-banner" data-source=${t?De(t):p} role="note">
        <ha-icon icon=${n?"mdi:alert-circle":"mdi:calendar-clock"}></ha-icon>
        <div class="banner-text">
          ${t?c`<div class="banner-title" data-test="event-title">${this._t(ft(t,n),{name:a})}</div>
                <div class="banner-details">${s.join(" · ")}</div>`:p}
          ${e.cap_kw!==null?c`<div class="banner-details">${this._t("event.cap_now",{limit:M(e.cap_kw,this._lang)})}</div>`:p}
          ${r==="offer"&&t?.opt_out_consequence?c`<div class="banner-details" data-test="opt-out-consequence">${this._t("event.consequence",{consequence:t.opt_out_consequence})}</div>`:p}
        </div>
        ${r==="offer"&&t&&e.device_id?c`<button class="secondary" data-test="opt-out" @click=${()=>this._optOut(e,t)} ?disabled=${this._busy!==void 0}>
              ${this._t("opt_out")}
            </button>`:r==="opted_out"?c`<span class="chip opted-out" data-test="opted-out">${this._t("opted_out")}</span>`:p}
      </div>
    `}_renderStats(e){let t=e.session,n=this._lang,s=e.price;return c`
      <div class="stats">
        <div class="stat" data-test="power">
          <div class="label">${this._t("power")}</div>
          <div class="value">${M(t?t.power_kw??0:null,n)}</div>
        </div>
        <div class="stat" data-test="energy">
          <div class="label">${this._t("energy")}</div>
          <div class="value">${W(t?.energy_kwh,n)}</div>
        </div>
        <div class="stat" data-test="cost">
          <div class="label">${this._t("cost")}</div>
          <div class="value">${O(t?.cost,t?.currency??s.currency,n)}</div>
        </div>
        <div class="stat" data-test="price">
          <div class="label">${this._t("price")}</div>
          <div class="value">${X(s.value,s.currency,n)}</div>
          <div class="hint">
            ${Date.parse(s.until)-Date.now()<864e5?this._t("period_until",{period:ce(n,s.period),time:C(s.until,n,this._tz)}):ce(n,s.period)}
          </div>
        </div>
      </div>
    `}_renderControls(e){let t=this._busy!==void 0,n=this._entity(e,"vehicle"),s=n?.attributes.options??["auto",...e.vehicles.map(o=>o.name)],a=n?.state??"auto",r=e.charger_id,l=Pe(e);return c`
      <div class="controls">
        ${e.entities.vehicle?c`<div class="control-slot" data-test="vehicle-select">
              ${oe({id:`pev-vehicle-${r}`,label:this._t("vehicle"),value:a,options:s.map(o=>({value:o,label:o==="auto"?this._t("vehicle_auto"):o})),disabled:t,hass:this.hass,onChange:o=>this._selectVehicle(e,o)})}
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
    `}_renderOptional(e){let t=this._busy!==void 0,n=this._lang,s=[],a=this._entity(e,"charge_mode");if(a){let d=a.attributes.options??[];s.push(c`<div class="control-slot" data-test="charge-mode">
        ${oe({id:"pev-charge_mode",label:this._t("charge_mode"),value:a.state,options:d.map(m=>({value:m,label:bt(n,m)})),disabled:t,hass:this.hass,onChange:m=>this._setEntity(e,"charge_mode",this._t("charge_mode"),m)})}
      </div>`)}let r=["departure","departure_time"].find(d=>e.entities[d]),l=r?this._entity(e,r):void 0;if(r&&l&&l.entity_id.startsWith("time.")){let d=String(this._draft[r]??Te(l.state));s.push(c`<div class="control-slot inline time-slot" data-test="departure">
        ${ot({id:`pev-${r}`,label:this._t("departure"),value:d,disabled:t,hass:this.hass,onChange:m=>this._setDraft(r,m)})}
        <button class="secondary" data-test="set-departure" ?disabled=${t} @click=${()=>this._setEntity(e,r,this._t("departure"),d)}>${this._t("set")}</button>
      </div>`)}let o=["target","target_soc","target_energy","target_kwh"].find(d=>e.entities[d]),h=o?this._entity(e,o):void 0;if(o&&h){let d=h.attributes,m=Number(this._draft[o]??h.state);s.push(c`<div class="control-slot inline" data-test="target">
        ${K({id:`pev-${o}`,label:this._t("target"),value:Number.isFinite(m)?m:0,min:d.min??0,max:d.max??100,step:d.step??1,unit:d.unit_of_measurement,disabled:t,hass:this.hass,onChange:f=>this._setDraft(o,f)})}
        <button class="secondary" data-test="set-target" ?disabled=${t} @click=${()=>this._setEntity(e,o,this._t("target"),m)}>${this._t("set")}</button>
      </div>`)}return s}_renderPlan(e){let t=this._lang,n=Math.max(200,this._width),s=150,a=_t(e),r=a==="plan"?e.plan:null,l=at({prices:e.prices,plan:r,caps:e.caps,events:[e.event,e.next_event],now:new Date},{width:n,height:s}),o=e.price.currency,h=d=>P(d,t,this._tz);return c`
      <section class="plan" aria-labelledby="pev-plan-title">
        <div class="section-head">
          <h3 id="pev-plan-title">${this._t("plan")}</h3>
          ${r?.ready_by?c`<span class="ready" data-test="ready-by">${this._t("ready_by",{time:C(r.ready_by,t,this._tz)})}</span>`:p}
        </div>
        ${a==="paused"?c`<div class="plan-info paused" data-test="plan-paused">${this._t("paused_plan")}</div>`:r?c`<div class="plan-info" data-test="plan-info">
                ${r.reachable===!1?c`<span class="warn">${this._t("not_reachable")}</span>`:p}
                ${(r.explanations??[]).map(d=>c`<span>${$t(t,d,this._tz)}</span>`)}
                ${r.cost!==null&&r.cost!==void 0?c`<span>${this._t("plan_cost",{cost:O(r.cost,o,t)})}</span>`:p}
              </div>`:c`<div class="plan-info" data-test="plan-info">${this._t("no_plan")}</div>`}
        <div class="chart" data-test="chart">
          <svg width=${n} height=${s} viewBox="0 0 ${n} ${s}" role="img" aria-label=${this._t("plan")}>
            <defs>
              <pattern id="pev-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                <rect width="6" height="6" class="cap-bg"></rect>
                <line x1="0" y1="0" x2="0" y2="6" class="cap-line"></line>
              </pattern>
            </defs>
            ${l.caps.map(d=>E`<rect class="cap" x=${d.x} y=${d.y} width=${d.width} height=${d.height} fill="url(#pev-hatch)"><title>${d.name??""} ${d.limit!==null?M(d.limit,t):""}</title></rect>
                ${d.limitY!==null?E`<line class="cap-limit" x1=${d.x} x2=${d.x+d.width} y1=${d.limitY} y2=${d.limitY}></line>`:p}`)}
            ${l.prices.map(d=>E`<rect class="price" x=${d.x} y=${d.y} width=${Math.max(.5,d.width)} height=${d.height}><title>${h(new Date(l.start+d.x/n*(l.end-l.start)).toISOString())} ${ce(t,d.period)}: ${X(d.price,o,t)}</title></rect>`)}
            ${l.bars.map(d=>E`<rect class="bar" x=${d.x} y=${d.y} width=${d.width} height=${d.height}><title>${M(d.power,t)}</title></rect>`)}
            ${l.nowX!==null?E`<line class="now" x1=${l.nowX} x2=${l.nowX} y1="0" y2=${l.plotHeight}></line>`:p}
            ${l.departureX!==null?E`<line class="departure" x1=${l.departureX} x2=${l.departureX} y1="0" y2=${l.plotHeight}></line>
                  <text class="departure-label" x=${Math.min(l.departureX,n-4)} y="11" text-anchor="end">${this._t("legend_departure")} ${h(r.departure)}</text>`:p}
            <line class="axis" x1="0" x2=${n} y1=${l.plotHeight} y2=${l.plotHeight}></line>
            ${l.ticks.map(d=>E`<line class="tick" x1=${d.x} x2=${d.x} y1=${l.plotHeight} y2=${l.plotHeight+4}></line>
                <text class="tick-label" x=${Math.min(Math.max(d.x,26),n-26)} y=${s-3} text-anchor="middle">${h(d.time)}</text>`)}
            ${l.priceLabel?E`<text class="scale" data-test="price-label" x=${l.priceLabel.x} y=${l.priceLabel.y}>${X(l.priceLabel.price,o,t)}</text>`:p}
          </svg>
        </div>
        <div class="legend">
          <span><i class="swatch price"></i>${this._t("legend_price")}</span>
          ${l.bars.length?c`<span><i class="swatch bar"></i>${this._t("legend_power")}</span>`:p}
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
                ${e.event_history.map(n=>c`<li>${xt(n,t,this._tz)}</li>`)}
              </ul>`:p}
      </section>
    `}_renderSession(e,t,n){let s=this._intervals[t.session_id],a=t.data_quality??"OK";return c`
      <details class="session" data-test="session" @toggle=${r=>this._toggleSession(t,r)}>
        <summary>
          <span class="when">${C(t.started_at,n,this._tz)}</span>
          <span class="who">${t.vehicle??t.pev_id??this._t("unknown_vehicle")}</span>
          <span class="num">${W(t.energy_kwh,n)}</span>
          <span class="num">${O(t.cost,t.currency,n)}</span>
          <span class="quality quality-${a}" title=${this._t("quality")}>${this._t(`quality.${a}`)}</span>
        </summary>
        <div class="intervals">
          ${s===void 0||s==="loading"?c`<div class="empty">${this._t("loading")}</div>`:typeof s=="string"?c`<div class="empty error">${this._t("error",{message:s})}</div>`:s.intervals.length===0?c`<div class="empty">${this._t("no_intervals")}</div>`:c`<table data-test="intervals">
                    <thead>
                      <tr><th scope="col">${this._t("time")}</th><th scope="col">${this._t("energy")}</th><th scope="col">${this._t("price")}</th><th scope="col">${this._t("cost")}</th><th scope="col">${this._t("quality")}</th></tr>
                    </thead>
                    <tbody>
                      ${s.intervals.map(r=>c`<tr>
                          <td>${P(r.start,n,this._tz)}–${P(r.end,n,this._tz)}</td>
                          <td class="num">${A(r.kwh,n,3)}</td>
                          <td class="num">${ut(r.price,s.currency,n)}</td>
                          <td class="num">${O(r.cost,s.currency,n)}</td>
                          <td>${this._t(`quality.${r.quality}`)}</td>
                        </tr>`)}
                    </tbody>
                  </table>`}
          <button class="link" @click=${()=>this._export(e,t.session_id)}>${this._t("export_session")}</button>
        </div>
      </details>
    `}_renderEventForm(e){let t=this._busy!==void 0,n=this._eventKind,s=(r,l)=>this._draft[`event_${r}`]??l,a=r=>l=>this._setDraft(`event_${r}`,l);return c`
      <details class="event-form" data-test="event-form">
        <summary>${this._t("add_event")}</summary>
        <div class="form">
          ${oe({id:"pev-event-kind",label:this._t("event_kind"),value:n,options:["price","load_control"].map(r=>({value:r,label:this._t(`kind.${r}`)})),hass:this.hass,onChange:r=>this._eventKind=r})}
          ${lt({id:"pev-event-name",label:this._t("event_name"),value:String(s("name","")),hass:this.hass,onChange:a("name")})}
          ${K({id:"pev-event-duration",label:this._t("event_duration"),value:Number(s("duration",1)),min:.25,step:.25,unit:"h",hass:this.hass,onChange:a("duration")})}
          ${n==="price"?K({id:"pev-event-price",label:this._t("event_price"),value:Number(s("price",Et)),min:0,step:.01,unit:`${e.price.currency}/kWh`,hass:this.hass,onChange:a("price")}):K({id:"pev-event-limit",label:this._t("event_limit"),value:Number(s("limit",Ct)),min:0,step:.1,unit:"kW",hass:this.hass,onChange:a("limit")})}
          <div class="buttons">
            <button class="primary" data-test="add-event" ?disabled=${t} @click=${()=>this._addEvent(e)}>${this._t("add")}</button>
          </div>
        </div>
      </details>
    `}};Y.properties={hass:{attribute:!1},_config:{state:!0},_data:{state:!0},_error:{state:!0},_status:{state:!0},_busy:{state:!0},_intervals:{state:!0},_width:{state:!0},_eventKind:{state:!0},_draft:{state:!0}},Y.styles=ge`
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
  `;function Oe(){window.customElements.get(Z)||window.customElements.define(Z,Y),window.customElements.get(ue)||window.customElements.define(ue,G)}function kt(){let i=["home-assistant","hc-main"].find(e=>document.querySelector(e));i&&!window.customElements.get(i)?window.customElements.whenDefined(i).then(Oe,Oe):Oe()}document.readyState==="loading"?document.addEventListener("DOMContentLoaded",kt,{once:!0}):kt();window.customCards=window.customCards??[];window.customCards.some(i=>i.type===Z)||window.customCards.push({type:Z,name:g(navigator.language,"card_name"),description:g(navigator.language,"card_description"),preview:!0,documentationURL:"https://github.com/pev-portal/pev-portal/blob/main/docs/user-guide.md#dashboard"});console.info(`%c PEV-PORTAL-CARD %c ${Jt} `,"background:#03a9f4;color:#fff","");export{Y as PevPortalCard};
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

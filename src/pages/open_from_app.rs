use leptos::prelude::*;

/// No token, or the server rejected it: the way in is the KakaoTalk app.
#[component]
pub fn OpenFromAppPage() -> impl IntoView {
    view! {
        <section class="panel" data-testid="open-from-app" aria-labelledby="open-from-app-title">
            <h2 class="panel__title" id="open-from-app-title" tabindex="-1" data-focus="">
                "카카오톡에서 열어 주세요"
            </h2>
            <p class="panel__text">
                "전 국민 마음 패키지는 카카오톡 앱 안에서 받을 수 있어요. 아래 순서대로 다시 열어 주세요."
            </p>
            <ol class="steps" aria-label="여는 방법">
                <li><span>"카카오톡 앱을 열어요"</span></li>
                <li><span>"아래쪽 " <strong>"더보기"</strong> " 탭을 눌러요"</span></li>
                <li><span><strong>"카카오 나우"</strong> " 배너를 눌러요"</span></li>
            </ol>
            <p class="panel__hint">"카카오톡 > 더보기 > 카카오 나우 배너를 누르면 바로 열려요."</p>
        </section>
    }
}
